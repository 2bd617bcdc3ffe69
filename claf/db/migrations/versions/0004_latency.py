"""latency tables: ``claf bench latency`` reports (runs) and their batch x length x backend rows

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "latency_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_key", sa.String(64), nullable=False, unique=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("model_info", sa.JSON, nullable=False),
        sa.Column("environment", sa.JSON, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("budget", sa.JSON, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "latency_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("latency_runs.id"), nullable=False, index=True),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("batch", sa.Integer, nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("iterations", sa.Integer, nullable=False),
        sa.Column("avg_ms", sa.Float, nullable=False),
        sa.Column("p50_ms", sa.Float, nullable=False),
        sa.Column("p90_ms", sa.Float, nullable=False),
        sa.Column("p95_ms", sa.Float, nullable=False),
        sa.Column("p99_ms", sa.Float, nullable=False),
        sa.Column("throughput", sa.Float, nullable=False),
        sa.UniqueConstraint("run_id", "backend", "batch", "length"),
    )


def downgrade() -> None:
    op.drop_table("latency_rows")
    op.drop_table("latency_runs")
