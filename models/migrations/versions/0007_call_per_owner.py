"""a call per owner and recording: the same bytes uploaded by two users are two calls sharing one stored file

Revision ID: 0007
Revises: 0006

Before, ``call.audio_sha256`` was unique: a second user uploading a recording someone else had uploaded was told
so (and learnt that it existed). Now ``(owner_id, audio_sha256)`` is unique and the hash alone is only indexed.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_audio_sha256")
        batch_op.create_index("ix_call_audio_sha256", ["audio_sha256"], unique=False)
        batch_op.create_index("uq_call_owner_audio", ["owner_id", "audio_sha256"], unique=True)


def downgrade() -> None:
    # Fails while two owners have a call of the same recording: merge or delete those first.
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("uq_call_owner_audio")
        batch_op.drop_index("ix_call_audio_sha256")
        batch_op.create_index("ix_call_audio_sha256", ["audio_sha256"], unique=True)
