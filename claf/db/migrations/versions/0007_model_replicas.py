"""a pre-trained model's replica identity: models.family and models.pretrain_seed

A model pre-trained with several seeds is one row per seed (``larva-kor-tiny-s43``); the replicas share a
family (``larva-kor-tiny``). Existing rows are filled from their names: ``<family>-s<seed>`` is a replica,
any other name is its own family with no seed recorded.

Revision ID: 0007
Revises: 0006
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_REPLICA = re.compile(r"^(?P<family>.+)-s(?P<seed>\d+)$")


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("family", sa.String(200), nullable=True))
        batch.add_column(sa.Column("pretrain_seed", sa.Integer, nullable=True))
        batch.create_index("ix_models_family", ["family"])
    models = sa.table(
        "models",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("family", sa.String),
        sa.column("pretrain_seed", sa.Integer),
    )
    conn = op.get_bind()
    for model_id, name in conn.execute(sa.select(models.c.id, models.c.name)).all():
        m = _REPLICA.match(name)
        family, seed = (m.group("family"), int(m.group("seed"))) if m else (name, None)
        conn.execute(models.update().where(models.c.id == model_id).values(family=family, pretrain_seed=seed))


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_index("ix_models_family")
        batch.drop_column("pretrain_seed")
        batch.drop_column("family")
