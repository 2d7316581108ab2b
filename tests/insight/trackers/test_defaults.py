"""The default trackers come with the database (a migration data step), in Japanese and English."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from insight.runtime import Runtime
from insight.trackers import service
from tests.conftest import make_settings


def test_a_new_database_has_the_default_trackers(tmp_path: Path) -> None:
    runtime = Runtime.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        with Session(runtime.engine) as session:
            trackers = {t.name: t for t in service.list_trackers(session)}
    finally:
        runtime.close()
    assert set(trackers) == {"pricing", "competitor", "next step", "security review"}
    assert {"価格", "見積もり", "price", "quote"} <= set(trackers["pricing"].phrases)
    assert trackers["security review"].side == "customer"
    assert all(t.enabled and t.semantic for t in trackers.values())
