"""Minutes API contract: the stored minutes document plus how and when it was written."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from insight.nlp.minutes.schemas import MinutesDoc


class MinutesPublic(BaseModel):
    """A call's minutes as stored (``minutes``, the domain schema itself), with the call, its view and how and when
    they were written.
    """

    call_id: int
    status: str = Field(description="The call's processing status.")
    view: str = Field(description="redacted (personal data replaced) or original (owner and admins only)")
    backend: str = Field(description="offline, or llm when an LLM endpoint wrote the items")
    model: str | None = None
    generated_at: datetime
    minutes: MinutesDoc
