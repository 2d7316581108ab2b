"""win patterns: pattern runs (segmentation, segment snapshot, counts, parameters) and their per feature and segment
results (rates, effect with interval, p, q, shrunk effect, support, significance, evidence)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pattern_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segmentation", sa.String(length=128), nullable=False),
        sa.Column("segment_run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("tests", sa.Integer(), nullable=False),
        sa.Column("significant", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["segment_run_id"], ["segment_run.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pattern_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pattern_run_segmentation"), ["segmentation"], unique=False)
        batch_op.create_index(batch_op.f("ix_pattern_run_segment_run_id"), ["segment_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pattern_run_status"), ["status"], unique=False)
    op.create_table(
        "win_pattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.String(length=128), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("n_with", sa.Integer(), nullable=False),
        sa.Column("n_without", sa.Integer(), nullable=False),
        sa.Column("won_with", sa.Integer(), nullable=False),
        sa.Column("won_without", sa.Integer(), nullable=False),
        sa.Column("rate_won", sa.Float(), nullable=True),
        sa.Column("rate_lost", sa.Float(), nullable=True),
        sa.Column("win_rate_with", sa.Float(), nullable=True),
        sa.Column("win_rate_without", sa.Float(), nullable=True),
        sa.Column("effect", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("p", sa.Float(), nullable=True),
        sa.Column("q", sa.Float(), nullable=True),
        sa.Column("shrunk", sa.Float(), nullable=False),
        sa.Column("shrunk_low", sa.Float(), nullable=False),
        sa.Column("shrunk_high", sa.Float(), nullable=False),
        sa.Column("tested", sa.Boolean(), nullable=False),
        sa.Column("significant", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["pattern_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("win_pattern", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_win_pattern_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_win_pattern_significant"), ["significant"], unique=False)
        batch_op.create_index("ix_win_pattern_run_segment", ["run_id", "segment"], unique=False)


def downgrade() -> None:
    op.drop_table("win_pattern")
    op.drop_table("pattern_run")
