"""Customers, their ids in other systems, and their deals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime


class Customer(TimestampMixin, table=True):
    """A buying organisation or person. Typed columns for what every source has; ``properties`` for the rest."""

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=255)
    company: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    # CRM properties without a column of their own (industry, region, lifecycle stage ...).
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CustomerExternalId(SQLModel, table=True):
    """The id a customer has in one source system (a CRM, a shop, an import file). One per (source, id)."""

    __tablename__ = "customer_external_id"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_customer_external_id_source"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    source: str = Field(max_length=64)
    external_id: str = Field(max_length=255, index=True)


class DealOutcome(StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class Deal(TimestampMixin, table=True):
    """A sales opportunity from the CRM/SFA; its outcome is what win patterns are learnt from."""

    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_deal_source_external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    source: str = Field(max_length=64)
    external_id: str = Field(max_length=255, index=True)
    name: str | None = Field(default=None, max_length=255)
    stage: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default=DealOutcome.open, max_length=8, index=True)
    amount: float | None = Field(default=None, sa_column=Column(Numeric(18, 4, asdecimal=False), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner: str | None = Field(default=None, max_length=255)
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
