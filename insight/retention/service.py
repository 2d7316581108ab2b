"""Retention: what happens to a call's content over time, and the deletion machinery erasure shares.

* :func:`purge_expired` (periodic, ``INSIGHT_RETENTION_DAYS``): a finished call older than N days loses its audio,
  transcript, speakers (names, voice prints), minutes and everything else that points at it, and its file name.
  The call row stays with its anonymous figures (duration, language, status, conversation metrics, its owner and
  its customer/deal link), so talk-metric trends and win statistics keep their counts. Its content address is
  replaced, so uploading the same recording again makes a new call.
* Erasure of a customer (:func:`insight.customers.service.erase_customer`) deletes with the same helpers.

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
from insight.repositories import calls as calls_repo
from insight.repositories import retention as retention_repo
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
    """What a retention purge did: calls stripped, audio files deleted and rows deleted per table.

    ``cutoff`` is the upload time before which calls were purged; None when retention is off.
    """

    cutoff: datetime | None
    calls_purged: int = 0
    audio_files_deleted: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)


def add_counts(counts: dict[str, int], more: dict[str, int]) -> None:
    """Add the per-table row counts of ``more`` to ``counts``, in place."""
    for k, v in more.items():
        counts[k] = counts.get(k, 0) + v


def delete_unreferenced_files(engine: Engine, store: AudioStore, hashes: list[str]) -> int:
    """Delete the stored files of ``hashes`` that no call refers to any more (after the commit that released them):
    several owners' calls of the same recording share one file.
    """
    with Session(engine) as session:
        in_use = calls_repo.sha256_in_use(session, sorted(set(hashes)))
    deleted = 0
    for sha in sorted(set(hashes) - in_use):
        path = store.path_for(sha)
        if path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def rebuild_profiles(session: Session, rep_keys: set[str]) -> None:
    """Recompute the voice profile of each rep in ``rep_keys`` from the confirmed calls that remain."""
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
            add_counts(
                report.rows_deleted, retention_repo.delete_rows_pointing_at(session, "call", ids, keep=KEEP_ON_PURGE)
            )
            for call in calls:
                call.filename = ""
                call.audio_sha256 = hashlib.sha256(f"purged:{call.id}".encode()).hexdigest()
                call.error = None
                call.purged_at = now
                session.add(call)
            session.flush()
            rebuild_profiles(session, {c.rep_key for c in calls if c.rep_key})
            audit.record(
                session,
                actor,
                audit.Action.retention_purge,
                object_type="call",
                object_id=f"{ids[0]}..{ids[-1]}",
                details={"calls": len(ids), "older_than_days": days},
            )
        report.calls_purged += len(ids)
        report.audio_files_deleted += delete_unreferenced_files(engine, store, hashes)
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
