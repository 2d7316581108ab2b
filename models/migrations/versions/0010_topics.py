"""topics across calls: topics per side with stable ids, their fit runs, and each utterance's topic

Revision ID: 0010
Revises: 0009

A refit matches its topics to the earlier ones, so a topic keeps its id and a user's label; the fit run records what
was kept, new, merged, split and retired, and the share of utterances left without a topic.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topic_fit_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("utterances", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("topics", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("split", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Integer(), nullable=False),
        sa.Column("outlier_share", sa.Float(), nullable=False),
        sa.Column("outliers_before", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("calls_at_fit", sa.Integer(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_topic_fit_run_side", "topic_fit_run", ["side"])
    op.create_index("ix_topic_fit_run_status", "topic_fit_run", ["status"])
    op.create_table(
        "topic",
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("label_edited", sa.Boolean(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fit_run_id", sa.Integer(), nullable=True),
        sa.Column("split_from_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["fit_run_id"], ["topic_fit_run.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_topic_side", "topic", ["side"])
    op.create_index("ix_topic_active", "topic", ["active"])
    op.create_index("ix_topic_fit_run_id", "topic", ["fit_run_id"])
    op.create_table(
        "utterance_topic",
        sa.Column("utterance_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["utterance_id"], ["utterance.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("utterance_id"),
    )
    op.create_index("ix_utterance_topic_call_id", "utterance_topic", ["call_id"])
    op.create_index("ix_utterance_topic_topic_score", "utterance_topic", ["topic_id", "score"])


def downgrade() -> None:
    op.drop_index("ix_utterance_topic_topic_score", table_name="utterance_topic")
    op.drop_index("ix_utterance_topic_call_id", table_name="utterance_topic")
    op.drop_table("utterance_topic")
    op.drop_index("ix_topic_fit_run_id", table_name="topic")
    op.drop_index("ix_topic_active", table_name="topic")
    op.drop_index("ix_topic_side", table_name="topic")
    op.drop_table("topic")
    op.drop_index("ix_topic_fit_run_status", table_name="topic_fit_run")
    op.drop_index("ix_topic_fit_run_side", table_name="topic_fit_run")
    op.drop_table("topic_fit_run")
