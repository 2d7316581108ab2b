"""Queries on customers, their external ids and deals, and the links from calls to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, CursorResult, func, or_, text
from sqlmodel import Session, col, select

from insight.repositories import calls as calls_repo
from insight.repositories.calls import CallVisibility
from models import Call, Customer, CustomerExternalId, Deal
from models.base import utcnow


def get(session: Session, customer_id: int) -> Customer | None:
    """The customer with this id, or None."""
    return session.get(Customer, customer_id)


def external_ids(session: Session, customer_id: int) -> list[CustomerExternalId]:
    """The customer's external ids in every source, ordered by source and id."""
    return list(
        session.exec(
            select(CustomerExternalId)
            .where(CustomerExternalId.customer_id == customer_id)
            .order_by(col(CustomerExternalId.source), col(CustomerExternalId.external_id))
        ).all()
    )


def get_by_external_id(session: Session, *, source: str, external_id: str) -> Customer | None:
    """The customer known as ``external_id`` in ``source``, or None."""
    return session.exec(
        select(Customer)
        .join(CustomerExternalId, col(CustomerExternalId.customer_id) == col(Customer.id))
        .where(CustomerExternalId.source == source, CustomerExternalId.external_id == external_id)
    ).first()


def resolve_external_id(session: Session, external_id: str) -> int | None:
    """The customer with this id in any source, when exactly one customer has it (else None: unknown or ambiguous).

    ``source:id`` names the source explicitly.
    """
    query = select(CustomerExternalId.customer_id).distinct()
    if ":" in external_id:
        source, _, ext = external_id.partition(":")
        explicit = session.exec(
            query.where(CustomerExternalId.source == source, CustomerExternalId.external_id == ext)
        ).all()
        if len(explicit) == 1:
            return int(explicit[0])
    ids = session.exec(query.where(CustomerExternalId.external_id == external_id).limit(2)).all()
    return int(ids[0]) if len(ids) == 1 else None


def upsert(
    session: Session, *, source: str, external_id: str, values: dict[str, Any] | None = None
) -> tuple[Customer, bool]:
    """The customer with ``(source, external_id)``, created if absent; ``values`` set the typed columns and
    ``properties`` (merged). Returns (customer, created).
    """
    values = dict(values or {})
    properties = values.pop("properties", None) or {}
    customer = get_by_external_id(session, source=source, external_id=external_id)
    created = customer is None
    if customer is None:
        customer = Customer(properties=dict(properties), **values)
        session.add(customer)
        session.flush()
        assert customer.id is not None
        session.add(CustomerExternalId(customer_id=customer.id, source=source, external_id=external_id))
    else:
        for key, value in values.items():
            setattr(customer, key, value)
        if properties:
            customer.properties = {**customer.properties, **properties}
        customer.updated_at = utcnow()
        session.add(customer)
    session.flush()
    return customer, created


def deals_for_customer(session: Session, customer_id: int) -> list[Deal]:
    """The customer's deals: open ones (no ``closed_at``) first, then the most recently closed."""
    return list(
        session.exec(
            select(Deal)
            .where(Deal.customer_id == customer_id)
            .order_by(col(Deal.closed_at).desc().nulls_first(), col(Deal.id).desc())
        ).all()
    )


def get_deal_by_external_id(session: Session, *, source: str, external_id: str) -> Deal | None:
    """The deal known as ``external_id`` in ``source``, or None."""
    return session.exec(select(Deal).where(Deal.source == source, Deal.external_id == external_id)).first()


def resolve_deal(session: Session, external_id: str) -> Deal | None:
    """The deal with this external id in any source, when exactly one has it."""
    deals = session.exec(select(Deal).where(Deal.external_id == external_id).limit(2)).all()
    return deals[0] if len(deals) == 1 else None


def upsert_deal(session: Session, *, source: str, external_id: str, values: dict[str, Any]) -> tuple[Deal, bool]:
    """The deal with ``(source, external_id)``, created or updated with ``values``. Returns (deal, created)."""
    deal = get_deal_by_external_id(session, source=source, external_id=external_id)
    created = deal is None
    if deal is None:
        deal = Deal(source=source, external_id=external_id, **values)
    else:
        for key, value in values.items():
            setattr(deal, key, value)
        deal.updated_at = utcnow()
    session.add(deal)
    session.flush()
    return deal, created


def calls_for_customer(session: Session, customer_id: int, *, limit: int, visibility: CallVisibility) -> list[Call]:
    """The customer's newest calls among those ``visibility`` allows (a record never lists another team's calls)."""
    query = select(Call).where(Call.customer_id == customer_id)
    where = calls_repo.visible(visibility)
    if where is not None:
        query = query.where(where)
    return list(session.exec(query.order_by(col(Call.id).desc()).limit(limit)).all())


def count_calls_for_customer(session: Session, customer_id: int, *, visibility: CallVisibility) -> int:
    """How many of the customer's calls ``visibility`` allows."""
    query = select(func.count()).select_from(Call).where(Call.customer_id == customer_id)
    where = calls_repo.visible(visibility)
    if where is not None:
        query = query.where(where)
    return int(session.exec(query).one())


# Calls uploaded before their customer or deal existed keep the external ids; these statements link them once the
# ids resolve to exactly one customer / deal (an id shared by two customers in different sources stays unlinked).
_LINK_CUSTOMERS = text(
    "UPDATE call SET customer_id = (SELECT MIN(x.customer_id) FROM customer_external_id x "
    "WHERE x.external_id = call.customer_external_id) "
    "WHERE customer_id IS NULL AND customer_external_id IS NOT NULL "
    "AND (SELECT COUNT(DISTINCT x.customer_id) FROM customer_external_id x "
    "WHERE x.external_id = call.customer_external_id) = 1"
)
_LINK_DEALS = text(
    "UPDATE call SET deal_id = (SELECT MIN(d.id) FROM deal d WHERE d.external_id = call.deal_external_id) "
    "WHERE deal_id IS NULL AND deal_external_id IS NOT NULL "
    "AND (SELECT COUNT(*) FROM deal d WHERE d.external_id = call.deal_external_id) = 1"
)
_CUSTOMER_FROM_DEAL = text(
    "UPDATE call SET customer_id = (SELECT d.customer_id FROM deal d WHERE d.id = call.deal_id) "
    "WHERE customer_id IS NULL AND deal_id IS NOT NULL"
)


def link_calls(conn: Connection | Session) -> int:
    """Link unlinked calls whose external ids now resolve. Returns how many calls changed."""
    changed = 0
    for stmt in (_LINK_CUSTOMERS, _LINK_DEALS, _CUSTOMER_FROM_DEAL):
        result = conn.execute(stmt)
        assert isinstance(result, CursorResult)
        changed += int(result.rowcount)
    return changed


def get_deal(session: Session, deal_id: int) -> Deal | None:
    """The deal with this id, or None; no visibility check."""
    return session.get(Deal, deal_id)


def _deals_seen_through_calls(visibility: CallVisibility) -> ColumnElement[bool] | None:
    """Deals a reader reaches through the calls they may see: a call's deal, or a deal of a call's customer."""
    where = calls_repo.visible(visibility)
    if where is None:
        return None
    deal_ids = select(Call.deal_id).where(where, col(Call.deal_id).is_not(None))
    customer_ids = select(Call.customer_id).where(where, col(Call.customer_id).is_not(None))
    return or_(col(Deal.id).in_(deal_ids), col(Deal.customer_id).in_(customer_ids))


def deal_visible(session: Session, deal_id: int, *, visibility: CallVisibility | None) -> bool:
    """Whether the deal is among those ``visibility`` reaches (None: every deal)."""
    query = select(func.count()).select_from(Deal).where(Deal.id == deal_id)
    where = None if visibility is None else _deals_seen_through_calls(visibility)
    if where is not None:
        query = query.where(where)
    return int(session.exec(query).one()) > 0


def list_deals(
    session: Session,
    *,
    visibility: CallVisibility | None,
    customer_id: int | None = None,
    outcome: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Deal], int]:
    """A page of deals, newest first, and their total (only those ``visibility`` reaches; None: every deal)."""
    clauses: list[ColumnElement[bool]] = []
    where = None if visibility is None else _deals_seen_through_calls(visibility)
    if where is not None:
        clauses.append(where)
    if customer_id is not None:
        clauses.append(col(Deal.customer_id) == customer_id)
    if outcome is not None:
        clauses.append(col(Deal.outcome) == outcome)
    rows = session.exec(select(Deal).where(*clauses).order_by(col(Deal.id).desc()).offset(offset).limit(limit)).all()
    total = session.exec(select(func.count()).select_from(Deal).where(*clauses)).one()
    return list(rows), int(total)


def calls_of_deals(session: Session, deal_ids: list[int], *, visibility: CallVisibility) -> dict[int, list[int]]:
    """The ids of the calls of each deal among those ``visibility`` allows, oldest first."""
    if not deal_ids:
        return {}
    query = select(Call.deal_id, Call.id).where(col(Call.deal_id).in_(deal_ids))
    where = calls_repo.visible(visibility)
    if where is not None:
        query = query.where(where)
    out: dict[int, list[int]] = {}
    for deal_id, call_id in session.exec(query.order_by(col(Call.id))).all():
        if deal_id is not None and call_id is not None:
            out.setdefault(int(deal_id), []).append(int(call_id))
    return out


def customer_ids_by_external_id(session: Session, *, source: str, external_ids: list[str]) -> dict[str, int]:
    """The customer id of each of ``external_ids`` known in ``source`` (those not known are left out)."""
    out: dict[str, int] = {}
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start : start + CHUNK]
        rows = session.exec(
            select(CustomerExternalId.external_id, CustomerExternalId.customer_id).where(
                CustomerExternalId.source == source, col(CustomerExternalId.external_id).in_(chunk)
            )
        ).all()
        out.update(dict(rows))
    return out


def customer_ids_in_one_source(session: Session, external_ids: list[str]) -> dict[str, int]:
    """The customer of each of ``external_ids`` that exactly one customer has, in any source (as calls resolve them)."""
    seen: dict[str, set[int]] = {}
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start : start + CHUNK]
        rows = session.exec(
            select(CustomerExternalId.external_id, CustomerExternalId.customer_id).where(
                col(CustomerExternalId.external_id).in_(chunk)
            )
        ).all()
        for external_id, customer_id in rows:
            seen.setdefault(external_id, set()).add(customer_id)
    return {external_id: next(iter(ids)) for external_id, ids in seen.items() if len(ids) == 1}


def create_customers(session: Session, *, source: str, external_ids: list[str]) -> dict[str, int]:
    """A new customer for each of ``external_ids`` (none may exist in ``source``), in two flushes. Returns their ids."""
    customers = [Customer(properties={}) for _ in external_ids]
    session.add_all(customers)
    session.flush()
    ids: dict[str, int] = {}
    for external_id, customer in zip(external_ids, customers, strict=True):
        assert customer.id is not None
        ids[external_id] = customer.id
    session.add_all([CustomerExternalId(customer_id=ids[x], source=source, external_id=x) for x in external_ids])
    session.flush()
    return ids


def deals_in_source(session: Session, *, sources: list[str], external_ids: list[str]) -> dict[tuple[str, str], Deal]:
    """The deals with one of ``external_ids`` in one of ``sources``, by (source, external id)."""
    out: dict[tuple[str, str], Deal] = {}
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start : start + CHUNK]
        for deal in session.exec(
            select(Deal).where(col(Deal.source).in_(sources), col(Deal.external_id).in_(chunk))
        ).all():
            out[(deal.source, deal.external_id)] = deal
    return out


def add_deals(session: Session, deals: list[Deal]) -> None:
    """Insert new deals and flush."""
    session.add_all(deals)
    session.flush()


CHUNK = 500  # ids per IN (...) list
