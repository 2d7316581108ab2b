"""minutes per call; redacted text and PII spans beside each utterance

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("utterance") as batch:
        batch.add_column(sa.Column("text_redacted", sa.String(), nullable=True))
        batch.add_column(sa.Column("pii", sa.JSON(), nullable=True))
    op.create_table(
        "minutes",
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_redacted", sa.JSON(), nullable=True),
        sa.Column("generated_at", models.base.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("minutes")
    with op.batch_alter_table("utterance") as batch:
        batch.drop_column("pii")
        batch.drop_column("text_redacted")
