"""The audit helpers: a CRM write is recorded with a hash of what was sent (never the customer data itself), and
repeated reads within the window make one event (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from insight import audit
from insight.audit import Actor, RecentReads, payload_hash, record_crm_write
from insight.auth.ratelimit import RateLimiter
from insight.db import session_scope
from insight.runtime import Runtime
from models import AuditEvent


def test_crm_write_is_recorded_without_its_payload(runtime: Runtime) -> None:
    payload = {"properties": {"email": "hanako@example.jp", "last_call_summary": "予算は300万円"}}
    with session_scope(runtime.engine) as s:
        record_crm_write(
            s,
            Actor(label="sync@example.com", user_id=7, token_id=3),
            connector="hubspot",
            object_type="contact",
            external_id="hs-123",
            operation="upsert",
            payload=payload,
            status=200,
        )
    with Session(runtime.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == audit.Action.crm_write)).one()
    assert (event.actor, event.actor_user_id, event.actor_token_id) == ("sync@example.com", 7, 3)
    assert (event.object_type, event.object_id, event.outcome) == ("contact", "hs-123", "ok")
    assert event.details["connector"] == "hubspot"
    assert event.details["payload_sha256"] == payload_hash(payload)
    assert event.details["payload_sha256"] != payload_hash({**payload, "x": 1})
    stored = json.dumps(event.details, ensure_ascii=False)
    assert "hanako" not in stored
    assert "300万円" not in stored


def test_a_write_and_its_audit_event_commit_together(runtime: Runtime) -> None:
    class Boom(Exception):
        pass

    try:
        with session_scope(runtime.engine) as s:
            audit.record(s, audit.SYSTEM, audit.Action.retention_purge, details={"calls": 1})
            raise Boom
    except Boom:
        pass
    with Session(runtime.engine) as s:
        assert s.exec(select(AuditEvent)).all() == []


def test_recent_reads_and_rate_limiter_windows() -> None:
    reads = RecentReads(window_s=60)
    assert reads.first((1, None, "call.audio_read", 5))
    assert not reads.first((1, None, "call.audio_read", 5))
    assert reads.first((2, None, "call.audio_read", 5))
    now = [0.0]
    limiter = RateLimiter(60, burst=2, clock=lambda: now[0])
    assert [limiter.hit("k") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.hit("k") > 0
    now[0] += 1.0  # one request a second refills
    assert limiter.hit("k") == 0.0
    assert limiter.hit("other") == 0.0
