"""Retention and erasure.

* :func:`purge_expired` (periodic, ``INSIGHT_RETENTION_DAYS``): a finished call older than N days loses its audio,
  transcript, speakers (names, voice prints), minutes and everything else that points at it, and its file name.
  The call row stays with its anonymous figures (duration, language, status, conversation metrics, its owner and
  its customer/deal link), so talk-metric trends and win statistics keep their counts. Its content address is
  replaced, so uploading the same recording again makes a new call.
* :func:`erase_customer` (on request): the customer and everything about them goes: every call linked to them
  (directly, through a deal, or by external id) with its audio, transcript, speakers, metrics, minutes and jobs;
  their deals, purchases, external ids and segment snapshots; the customer row. Voice profiles built from those
  calls are rebuilt without them. Run totals of past segment runs (counts and revenue sums) stay: they are
  anonymous aggregates. The audit log keeps the ids (never the content) of what was erased.

Files are deleted after the transaction commits, and only when no other call refers to them (two owners' calls of
the same recording share one file); a crash in between leaves an unreferenced file, which the next purge run deletes
(:func:`sweep_orphans`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from insight import audit
from insight.db import session_scope
from insight.errors import NotFound
from insight.repositories import calls as calls_repo
from insight.repositories import customers as customers_repo
from insight.repositories import retention as retention_repo
from insight.segments import service as segments_service
from insight.storage import AudioStore
from insight.transcribe.speakers import rebuild_profile
from models.base import utcnow

log = logging.getLogger(__name__)

# What a purged call keeps: anonymous numbers about the conversation.
KEEP_ON_PURGE = ("call_metrics",)
# A stored file younger than this is never swept: an upload stores its file just before it creates the call row.
ORPHAN_GRACE_S = 3600.0


@dataclass
class PurgeReport:
    cutoff: datetime | None
    calls_purged: int = 0
    audio_files_deleted: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)


@dataclass
class ErasureReport:
    customer_id: int
    rows_deleted: dict[str, int] = field(default_factory=dict)
    audio_files_deleted: int = 0


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        counts[k] = counts.get(k, 0) + v


def _delete_files(engine: Engine, store: AudioStore, hashes: list[str]) -> int:
    """Delete the stored files of ``hashes`` that no call refers to any more (after the commit that released them):
    several owners' calls of the same recording share one file."""
    with Session(engine) as session:
        in_use = calls_repo.sha256_in_use(session, sorted(set(hashes)))
    deleted = 0
    for sha in sorted(set(hashes) - in_use):
        path = store.path_for(sha)
        if path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def _rebuild_profiles(session: Session, rep_keys: set[str]) -> None:
    for key in rep_keys:
        rebuild_profile(session, key)


def purge_expired(
    engine: Engine,
    store: AudioStore,
    *,
    days: int,
    now: datetime | None = None,
    actor: audit.Actor = audit.SYSTEM,
    batch: int = 500,
) -> PurgeReport:
    """Strip calls older than ``days`` down to their anonymous figures (see the module docstring)."""
    if days <= 0:
        return PurgeReport(cutoff=None)
    now = now or utcnow()
    report = PurgeReport(cutoff=now - timedelta(days=days))
    assert report.cutoff is not None
    while True:
        with session_scope(engine) as session:
            calls = retention_repo.expired_calls(session, report.cutoff, limit=batch)
            if not calls:
                break
            ids = [c.id for c in calls if c.id is not None]
            hashes = [c.audio_sha256 for c in calls]
            _add(report.rows_deleted, retention_repo.delete_rows_pointing_at(session, "call", ids, keep=KEEP_ON_PURGE))
            for call in calls:
                call.filename = ""
                call.audio_sha256 = hashlib.sha256(f"purged:{call.id}".encode()).hexdigest()
                call.error = None
                call.purged_at = now
                session.add(call)
            session.flush()
            _rebuild_profiles(session, {c.rep_key for c in calls if c.rep_key})
            audit.record(
                session,
                actor,
                audit.Action.retention_purge,
                object_type="call",
                object_id=f"{ids[0]}..{ids[-1]}",
                details={"calls": len(ids), "older_than_days": days},
            )
        report.calls_purged += len(ids)
        report.audio_files_deleted += _delete_files(engine, store, hashes)
    report.audio_files_deleted += sweep_orphans(engine, store)
    if report.calls_purged:
        log.info("retention purged %d calls older than %d days", report.calls_purged, days)
    return report


def sweep_orphans(engine: Engine, store: AudioStore, *, grace_s: float = ORPHAN_GRACE_S) -> int:
    """Delete stored files no call refers to (left by a crash between a commit and a file deletion)."""
    with Session(engine) as session:
        referenced = retention_repo.referenced_hashes(session)
    cutoff = time.time() - grace_s
    deleted = 0
    for path in list(store.iter_files()):
        if path.name not in referenced and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


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
            raise NotFound(f"Customer {customer_id} does not exist.", hint="Nothing to erase.")
        calls = retention_repo.calls_of_customer(session, customer_id)
        ids = [c.id for c in calls if c.id is not None]
        hashes = [c.audio_sha256 for c in calls if c.purged_at is None]
        rep_keys = {c.rep_key for c in calls if c.rep_key}
        _add(report.rows_deleted, retention_repo.delete_rows_pointing_at(session, "call", ids))
        n_calls = retention_repo.delete_calls(session, ids)
        if n_calls:
            report.rows_deleted["call"] = n_calls
        n_deals = retention_repo.delete_deals_of(session, customer_id)
        if n_deals:
            report.rows_deleted["deal"] = n_deals
        _add(
            report.rows_deleted,
            retention_repo.delete_rows_pointing_at(session, "customer", [customer_id], skip=("call", "deal")),
        )
        session.expunge_all()
        _add(report.rows_deleted, {"customer": retention_repo.delete_customer(session, customer_id)})
        _rebuild_profiles(session, rep_keys)
        audit.record(
            session,
            actor,
            audit.Action.customer_erase,
            object_type="customer",
            object_id=customer_id,
            details={"calls": ids, "rows": dict(report.rows_deleted)},
        )
    report.audio_files_deleted = _delete_files(engine, store, hashes)
    segments_service.forget_cached_counts()  # the segment totals no longer count this customer
    log.info("customer %s erased: %s", customer_id, report.rows_deleted)
    return report
