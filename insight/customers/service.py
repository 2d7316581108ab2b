"""Customers: erasure of a customer and everything about them.

* :func:`erase_customer` (on request): the customer and everything about them goes: every call linked to them
  (directly, through a deal, or by external id) with its audio, transcript, speakers, metrics, minutes and jobs;
  their deals, purchases, external ids and segment snapshots; the customer row. Voice profiles built from those
  calls are rebuilt without them. Run totals of past segment runs (counts and revenue sums) stay: they are
  anonymous aggregates. The audit log keeps the ids (never the content) of what was erased.

The customer record (purchases, segment, calls) is :mod:`insight.customers.record`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from insight import audit
from insight.db import session_scope
from insight.errors import NotFound
from insight.repositories import customers as customers_repo
from insight.repositories import retention as retention_repo
from insight.retention.service import add_counts, delete_unreferenced_files, rebuild_profiles
from insight.segments import service as segments_service
from insight.storage import AudioStore

log = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """What erasing a customer deleted: rows per table and stored audio files."""

    customer_id: int
    rows_deleted: dict[str, int] = field(default_factory=dict)
    audio_files_deleted: int = 0


def erase_customer(
    engine: Engine, store: AudioStore, customer_id: int, *, actor: audit.Actor = audit.SYSTEM
) -> ErasureReport:
    """Delete one customer and every piece of data about them (see the module docstring).

    Raises:
        NotFound: no such customer.
    """
    report = ErasureReport(customer_id=customer_id)
    with session_scope(engine) as session:
        if customers_repo.get(session, customer_id) is None:
            raise NotFound(
                f"Customer {customer_id} does not exist.",
                hint="Nothing to erase.",
                object_type="customer",
                object_id=customer_id,
            )
        calls = retention_repo.calls_of_customer(session, customer_id)
        ids = [c.id for c in calls if c.id is not None]
        hashes = [c.audio_sha256 for c in calls if c.purged_at is None]
        rep_keys = {c.rep_key for c in calls if c.rep_key}
        add_counts(report.rows_deleted, retention_repo.delete_rows_pointing_at(session, "call", ids))
        n_calls = retention_repo.delete_calls(session, ids)
        if n_calls:
            report.rows_deleted["call"] = n_calls
        n_deals = retention_repo.delete_deals_of(session, customer_id)
        if n_deals:
            report.rows_deleted["deal"] = n_deals
        add_counts(
            report.rows_deleted,
            retention_repo.delete_rows_pointing_at(session, "customer", [customer_id], skip=("call", "deal")),
        )
        session.expunge_all()
        add_counts(report.rows_deleted, {"customer": retention_repo.delete_customer(session, customer_id)})
        rebuild_profiles(session, rep_keys)
        audit.record(
            session,
            actor,
            audit.Action.customer_erase,
            object_type="customer",
            object_id=customer_id,
            details={"calls": ids, "rows": dict(report.rows_deleted)},
        )
    report.audio_files_deleted = delete_unreferenced_files(engine, store, hashes)
    segments_service.forget_cached_counts()  # the segment totals no longer count this customer
    log.info("customer %s erased: %s", customer_id, report.rows_deleted)
    return report
