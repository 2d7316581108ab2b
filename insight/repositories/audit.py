"""Queries on the audit log (append and read; nothing updates or deletes an event)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import AuditEvent


def add(session: Session, event: AuditEvent) -> AuditEvent:
    """Append an event and flush, so its id is set."""
    session.add(event)
    session.flush()
    return event


def list_page(
    session: Session,
    *,
    offset: int,
    limit: int,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """A page of audit events, newest first, and how many events match the filters in all.

    Filters left at None are not applied; ``since`` includes events at that very instant.
    """
    query = select(AuditEvent)
    total = select(func.count()).select_from(AuditEvent)
    if action is not None:
        query, total = query.where(AuditEvent.action == action), total.where(AuditEvent.action == action)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
        total = total.where(AuditEvent.actor_user_id == actor_user_id)
    if since is not None:
        query, total = query.where(col(AuditEvent.at) >= since), total.where(col(AuditEvent.at) >= since)
    rows = session.exec(query.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)).all()
    return list(rows), int(session.exec(total).one())
