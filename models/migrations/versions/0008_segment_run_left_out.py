"""segment runs count the customers they leave out: those whose purchases up to the reference date were all cancelled

Revision ID: 0008
Revises: 0007

Such customers have no last purchase, so no recency and no segment; their net amount (negative) is outside the
run's revenue and deciles. The run now says how many there were and what they amounted to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("segment_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_out_customers", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("left_out_revenue", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("segment_run", schema=None) as batch_op:
        batch_op.drop_column("left_out_revenue")
        batch_op.drop_column("left_out_customers")
