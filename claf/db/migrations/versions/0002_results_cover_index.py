"""a covering index for the table read: results(task_id, checkpoint_id, score)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_results_cover", "results", ["task_id", "checkpoint_id", "score"])


def downgrade() -> None:
    op.drop_index("ix_results_cover", table_name="results")
