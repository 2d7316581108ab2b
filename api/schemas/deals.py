"""API contracts for deals: the deal, a page of deals, a change, and a deal import's report (not tables)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.customers import DealPublic, RowErrorPublic


class DealDetailPublic(DealPublic):
    """A deal with its customer and the calls about it that you may see."""

    customer_id: int | None
    created_at: datetime
    updated_at: datetime
    call_ids: list[int] = Field(default_factory=list, description="The deal's calls among those you may see")
    urls: dict[str, str] = {}


class DealsPublic(BaseModel):
    """A page of the deals you may see, newest first, with their total."""

    data: list[DealDetailPublic]
    count: int
    offset: int
    limit: int


class DealUpdate(BaseModel):
    """A change of a deal; absent or null fields are left alone, an empty text clears a field."""

    outcome: str | None = Field(
        default=None, max_length=32, description="won, lost or open (also Closed Won, 受注, 失注, 商談中 …)"
    )
    stage: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    amount: float | None = None
    currency: str | None = Field(default=None, max_length=3, description="ISO 4217, e.g. JPY")
    closed_at: datetime | None = Field(
        default=None, description="ISO 8601 with offset; a deal won or lost without one is closed now"
    )
    owner: str | None = Field(default=None, max_length=255)
    customer_external_id: str | None = Field(
        default=None, max_length=255, description="The customer's id (source:id, or an id one source knows)"
    )


class DealCreate(DealUpdate):
    """A new deal: its id in a source system, and its values."""

    external_id: str = Field(min_length=1, max_length=255)
    source: str = Field(default="import", min_length=1, max_length=64)


class DealImportReportPublic(BaseModel):
    """What a deal import read and did: rows inserted, updated, unchanged and rejected (with reasons)."""

    file: str
    source: str
    customer_source: str
    file_format: str
    encoding: str | None = Field(description="The text encoding read (detected unless given); none for Parquet")
    columns: dict[str, str] = Field(description="The column each field was read from")
    rows_read: int
    inserted: int
    updated: int
    unchanged: int = Field(description="Rows whose deal already had these values")
    rejected: int = Field(description="Rows not imported (listed in errors); the others were imported")
    outcomes: dict[str, int] = Field(description="Imported rows per outcome (won, lost, open)")
    customers_created: int
    calls_linked: int
    committed: bool
    duration_s: float
    missing_columns: list[str]
    errors: list[RowErrorPublic]
    errors_truncated: bool
