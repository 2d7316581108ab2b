"""Purchases and returns: the transactional data behind RFM, deciles and LTV."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Transaction(SQLModel, table=True):
    """One purchase line (or return line: ``is_return``, negative ``amount``) of a customer.

    ``(source, external_id)`` is unique, which makes re-importing the same file a no-op. The table is named
    ``customer_transaction`` because ``transaction`` is an SQL keyword.
    """

    __tablename__ = "customer_transaction"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_customer_transaction_source_external_id"),
        Index("ix_customer_transaction_customer_occurred", "customer_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False))
    source: str = Field(max_length=64)
    external_id: str = Field(max_length=255)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    amount: float = Field(sa_column=Column(Numeric(18, 4, asdecimal=False), nullable=False))
    currency: str | None = Field(default=None, max_length=3)
    quantity: float | None = None
    unit_price: float | None = Field(default=None, sa_column=Column(Numeric(18, 4, asdecimal=False), nullable=True))
    order_id: str = Field(max_length=255)
    product: str | None = Field(default=None, max_length=255)
    is_return: bool = False
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
