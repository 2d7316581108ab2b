"""Queries on speakers, call metrics and voice profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from models import Call, CallMetrics, Speaker, VoiceProfile


def for_call(session: Session, call_id: int) -> list[Speaker]:
    """The call's speakers, ordered by diarization label."""
    return list(session.exec(select(Speaker).where(Speaker.call_id == call_id).order_by(col(Speaker.label))).all())


def replace_for_call(session: Session, call_id: int, speakers: list[Speaker]) -> None:
    """Replace a call's speakers (a re-run of diarization overwrites, never appends)."""
    session.execute(delete(Speaker).where(col(Speaker.call_id) == call_id))
    session.add_all(speakers)
    session.flush()


def save_metrics(session: Session, call_id: int, metrics: dict[str, Any]) -> None:
    """Insert or replace the call's metrics, stamped now.

    ``metrics["speakers"]`` is stored as the per-speaker list; every other key is a call-level figure.
    """
    row = session.get(CallMetrics, call_id)
    per_speaker = list(metrics.get("speakers", []))
    call_level = {k: v for k, v in metrics.items() if k != "speakers"}
    now = datetime.now(UTC)
    if row is None:
        session.add(CallMetrics(call_id=call_id, metrics=call_level, speakers=per_speaker, computed_at=now))
    else:
        row.metrics, row.speakers, row.computed_at = call_level, per_speaker, now
        session.add(row)
    session.flush()


def get_metrics(session: Session, call_id: int) -> CallMetrics | None:
    """The call's analysis metrics, or None before they are computed."""
    return session.get(CallMetrics, call_id)


def get_profile(session: Session, rep_key: str) -> VoiceProfile | None:
    """The voice profile of the rep with ``rep_key``, or None."""
    return session.exec(select(VoiceProfile).where(VoiceProfile.rep_key == rep_key)).first()


def list_profiles(session: Session) -> list[VoiceProfile]:
    """Every voice profile, ordered by rep key."""
    return list(session.exec(select(VoiceProfile).order_by(col(VoiceProfile.rep_key))).all())


def confirmed_reps(session: Session, rep_key: str) -> list[tuple[Speaker, int | None]]:
    """Rep speakers confirmed by a user in the calls of ``rep_key``, each with the owner of its call."""
    stmt = (
        select(Speaker, Call.owner_id)
        .join(Call, col(Call.id) == col(Speaker.call_id))
        .where(Call.rep_key == rep_key, Speaker.role == "rep", Speaker.role_source == "user")
        .order_by(col(Speaker.call_id))
    )
    return [(speaker, owner_id) for speaker, owner_id in session.exec(stmt).all()]


def save_profile(session: Session, profile: VoiceProfile) -> None:
    """Insert or update a voice profile, stamping ``updated_at`` now, and flush."""
    profile.updated_at = datetime.now(UTC)
    session.add(profile)
    session.flush()
