"""Queries on minutes and on the redacted text of utterances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from models import Minutes, Utterance


def get(session: Session, call_id: int) -> Minutes | None:
    """The minutes of the call, or None before they are generated."""
    return session.get(Minutes, call_id)


def save(session: Session, minutes: Minutes) -> None:
    """Insert or replace the minutes of ``minutes.call_id`` (a re-run overwrites)."""
    current = session.get(Minutes, minutes.call_id)
    if current is None:
        session.add(minutes)
    else:
        for name in ("language", "backend", "model", "schema_version", "content", "content_redacted", "generated_at"):
            setattr(current, name, getattr(minutes, name))
        session.add(current)
    session.flush()


def set_redactions(session: Session, call_id: int, redactions: dict[int, tuple[str, list[dict[str, Any]]]]) -> None:
    """Store each utterance's redacted text and PII spans (by utterance id, within the call)."""
    for utterance_id, (text, spans) in redactions.items():
        session.execute(
            update(Utterance)
            .where(col(Utterance.id) == utterance_id, col(Utterance.call_id) == call_id)
            .values(text_redacted=text, pii=spans)
        )
    session.flush()
