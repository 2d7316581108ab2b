"""Queries on transcript utterances."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from models import Utterance


def replace_for_call(session: Session, call_id: int, utterances: list[Utterance]) -> None:
    """Replace a call's utterances (a retried transcription overwrites, never appends)."""
    session.execute(delete(Utterance).where(col(Utterance.call_id) == call_id))
    session.add_all(utterances)
    session.flush()


def for_call(session: Session, call_id: int) -> list[Utterance]:
    """The call's utterances in spoken order."""
    return list(session.exec(select(Utterance).where(Utterance.call_id == call_id).order_by(col(Utterance.idx))).all())
