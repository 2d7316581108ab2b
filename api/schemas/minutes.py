"""Minutes API contract: the stored minutes document plus how and when it was written."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from insight.nlp.minutes.schemas import MinutesDoc


# The minutes document is served as stored (``minutes``, the domain schema itself), with the call and its view.
class MinutesPublic(BaseModel):
    call_id: int
    status: str = Field(description="The call's processing status.")
    view: str = Field(description="redacted (personal data replaced) or original (owner and admins only)")
    backend: str = Field(description="offline, or llm when an LLM endpoint wrote the items")
    model: str | None = None
    generated_at: datetime
    minutes: MinutesDoc
