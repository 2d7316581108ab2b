"""Queries for retention and erasure: which calls expire, and deleting every row that points at given rows.

Rows pointing at a call or a customer are found from the table metadata (every foreign key to ``call.id`` or
``customer.id``), so a table added later is covered without changing this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import CursorResult, Table, delete, or_
from sqlmodel import Session, SQLModel, col, select

from models import Call, Customer, CustomerExternalId, Deal, Job

# Tables that carry a call id without a foreign key (the job table outlives nothing, but must not keep ids around).
_CALL_ID_WITHOUT_FK: tuple[type[SQLModel], ...] = (Job,)


def referencing(table_name: str) -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to ``table_name``'s primary key."""
    out: list[tuple[Table, str]] = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and fk.parent.table is table:
                out.append((table, fk.parent.name))
    return out


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def delete_rows_pointing_at(
    session: Session, table_name: str, ids: Sequence[int], *, keep: Iterable[str] = (), skip: Iterable[str] = ()
) -> dict[str, int]:
    """Delete the rows of every table that references ``table_name`` rows ``ids``; returns rows per table.

    Args:
        session: the write session.
        table_name: the referenced table (``call`` or ``customer``).
        ids: the referenced primary keys.
        keep: tables whose rows stay (e.g. ``call_metrics`` on a retention purge).
        skip: tables handled separately by the caller (e.g. ``call`` itself when erasing a customer).
    """
    counts: dict[str, int] = {}
    if not ids:
        return counts
    excluded = set(keep) | set(skip)
    for table, column in referencing(table_name):
        if table.name in excluded:
            continue
        n = _rowcount(session.execute(delete(table).where(table.c[column].in_(list(ids)))))
        if n:
            counts[table.name] = counts.get(table.name, 0) + n
    if table_name == "call":
        for model in _CALL_ID_WITHOUT_FK:
            table = model.__table__  # type: ignore[attr-defined]
            if table.name in excluded:
                continue
            n = _rowcount(session.execute(delete(table).where(table.c.call_id.in_(list(ids)))))
            if n:
                counts[table.name] = counts.get(table.name, 0) + n
    return counts


def expired_calls(session: Session, cutoff: datetime, *, limit: int = 500) -> list[Call]:
    """Finished calls uploaded before ``cutoff`` whose audio and transcript are still kept."""
    return list(
        session.exec(
            select(Call)
            .where(col(Call.created_at) < cutoff, col(Call.purged_at).is_(None))
            .where(col(Call.status).in_(("done", "failed")))
            .order_by(col(Call.id))
            .limit(limit)
        ).all()
    )


def calls_of_customer(session: Session, customer_id: int) -> list[Call]:
    """Every call linked to the customer, directly, through one of its deals, or by one of its external ids."""
    external = select(CustomerExternalId.external_id).where(CustomerExternalId.customer_id == customer_id)
    deals = select(Deal.id).where(Deal.customer_id == customer_id)
    return list(
        session.exec(
            select(Call).where(
                or_(
                    col(Call.customer_id) == customer_id,
                    col(Call.deal_id).in_(deals),
                    col(Call.customer_external_id).in_(external),
                )
            )
        ).all()
    )


def delete_calls(session: Session, ids: Sequence[int]) -> int:
    """Delete the call rows ``ids`` (delete the rows pointing at them first). Returns how many were deleted."""
    if not ids:
        return 0
    return _rowcount(session.execute(delete(Call).where(col(Call.id).in_(list(ids)))))


def delete_deals_of(session: Session, customer_id: int) -> int:
    """Delete every deal of the customer. Returns how many were deleted."""
    return _rowcount(session.execute(delete(Deal).where(col(Deal.customer_id) == customer_id)))


def referenced_hashes(session: Session) -> set[str]:
    """The audio hash of every call: a stored audio file whose name is not among them belongs to no call."""
    return set(session.exec(select(Call.audio_sha256)).all())


def delete_customer(session: Session, customer_id: int) -> int:
    """Delete the customer row itself. Returns 1, or 0 when there was none."""
    return _rowcount(session.execute(delete(Customer).where(col(Customer.id) == customer_id)))
