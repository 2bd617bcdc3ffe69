"""scoped API tokens (api_tokens: name, scopes, sha256 of the secret, revoked) and the token that holds a job's lease

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("factory_jobs") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("factory_jobs") as batch:
        batch.drop_column("lease_token")
    op.drop_table("api_tokens")
