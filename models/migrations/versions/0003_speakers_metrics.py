"""speakers with roles, call metrics, voice profiles; calls get rep key and speaker count

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("rep_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("num_speakers", sa.Integer(), nullable=True))
        batch.create_index("ix_call_rep_key", ["rep_key"])
    op.create_table(
        "speaker",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("role_source", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=True),
        sa.UniqueConstraint("call_id", "label", name="uq_speaker_call_label"),
    )
    op.create_index("ix_speaker_call_id", "speaker", ["call_id"])
    op.create_table(
        "call_metrics",
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("speakers", sa.JSON(), nullable=False),
        sa.Column("computed_at", models.base.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "voice_profile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rep_key", sa.String(length=255), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("n_calls", sa.Integer(), nullable=False),
        sa.Column("call_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_voice_profile_rep_key", "voice_profile", ["rep_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_voice_profile_rep_key", table_name="voice_profile")
    op.drop_table("voice_profile")
    op.drop_table("call_metrics")
    op.drop_index("ix_speaker_call_id", table_name="speaker")
    op.drop_table("speaker")
    with op.batch_alter_table("call") as batch:
        batch.drop_index("ix_call_rep_key")
        batch.drop_column("num_speakers")
        batch.drop_column("rep_key")
