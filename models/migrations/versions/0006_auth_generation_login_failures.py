"""auth generation counter (credential caches across processes), failed sign-ins per address and e-mail

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    auth_state = op.create_table(
        "auth_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    op.bulk_insert(auth_state, [{"id": 1, "generation": 0}])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("locked_until", models.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_login_failure_address_email", "login_failure", ["address", "email"], unique=True)
    op.create_index("ix_login_failure_email", "login_failure", ["email"])
    op.create_index("ix_login_failure_last_failure_at", "login_failure", ["last_failure_at"])


def downgrade() -> None:
    op.drop_table("login_failure")
    op.drop_table("auth_state")
