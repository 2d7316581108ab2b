"""utterance embeddings (one float32 vector per utterance, tagged with its model); trackers and their hits

Revision ID: 0009
Revises: 0008

The default trackers (pricing, competitor, next step, security review; Japanese and English phrases) are data, so
they can be edited or deleted without a release and do not come back.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TRACKERS: tuple[tuple[str, str, list[str]], ...] = (
    (
        "pricing",
        "any",
        [
            "価格",
            "値段",
            "料金",
            "見積もり",
            "お見積り",
            "費用",
            "値引き",
            "price",
            "pricing",
            "quote",
            "discount",
            "cost",
        ],
    ),
    (
        "competitor",
        "any",
        [
            "競合",
            "他社",
            "他社製品",
            "乗り換え",
            "比較検討",
            "competitor",
            "another vendor",
            "alternative",
            "switch from",
        ],
    ),
    (
        "next step",
        "any",
        [
            "次回",
            "次のステップ",
            "改めてご連絡",
            "打ち合わせ",
            "デモ",
            "トライアル",
            "next step",
            "follow up",
            "schedule a meeting",
            "demo",
            "trial",
        ],
    ),
    (
        "security review",
        "customer",
        [
            "セキュリティ",
            "セキュリティチェック",
            "情報漏洩",
            "個人情報",
            "暗号化",
            "security review",
            "security questionnaire",
            "data privacy",
            "encryption",
            "compliance",
        ],
    ),
)


def upgrade() -> None:
    op.create_table(
        "utterance_embedding",
        sa.Column("utterance_id", sa.Integer(), sa.ForeignKey("utterance.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_utterance_embedding_call_id", "utterance_embedding", ["call_id"])
    op.create_index("ix_utterance_embedding_model_call", "utterance_embedding", ["model", "call_id"])
    op.create_table(
        "tracker",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=255), nullable=False, unique=True),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("phrases", sa.JSON(), nullable=False),
        sa.Column("semantic", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "tracker_hit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracker_id", sa.Integer(), sa.ForeignKey("tracker.id", ondelete="CASCADE"), nullable=False),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("utterance_id", sa.Integer(), sa.ForeignKey("utterance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("phrase", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
    )
    op.create_index("ix_tracker_hit_tracker_id", "tracker_hit", ["tracker_id"])
    op.create_index("ix_tracker_hit_call_id", "tracker_hit", ["call_id"])
    op.create_index("ix_tracker_hit_utterance_id", "tracker_hit", ["utterance_id"])
    op.create_table(
        "tracker_call_state",
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", models.base.UTCDateTime(), nullable=False),
    )

    now = datetime.now(UTC).replace(tzinfo=None)
    trackers = sa.table(
        "tracker",
        *(sa.column(name) for name in ("name", "side", "semantic", "threshold", "enabled", "created_at")),
        sa.column("updated_at"),
        sa.column("phrases", sa.JSON()),
    )
    op.bulk_insert(
        trackers,
        [
            {
                "name": name,
                "side": side,
                "phrases": phrases,
                "semantic": True,
                "threshold": None,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
            for name, side, phrases in DEFAULT_TRACKERS
        ],
    )


def downgrade() -> None:
    op.drop_table("tracker_call_state")
    op.drop_index("ix_tracker_hit_utterance_id", table_name="tracker_hit")
    op.drop_index("ix_tracker_hit_call_id", table_name="tracker_hit")
    op.drop_index("ix_tracker_hit_tracker_id", table_name="tracker_hit")
    op.drop_table("tracker_hit")
    op.drop_table("tracker")
    op.drop_index("ix_utterance_embedding_model_call", table_name="utterance_embedding")
    op.drop_index("ix_utterance_embedding_call_id", table_name="utterance_embedding")
    op.drop_table("utterance_embedding")
