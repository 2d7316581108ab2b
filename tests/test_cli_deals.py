"""``insight deals``: import a file (a column named with --map), list by outcome, mark a deal won; in a separate
process against SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from insight.runtime import Runtime
from models import AuditEvent, Deal
from tests.fixtures.cli import cli, cli_env


def test_import_list_set(runtime: Runtime, tmp_path: Path) -> None:
    env = cli_env(runtime, tmp_path)
    path = tmp_path / "opps.csv"
    path.write_text(
        "Opp No,Account,Stage,Amount,IsWon,CloseDate\n"
        "A-1,C-1,Closed Won,100,true,2026-09-01\n"
        "A-2,C-1,Qualify,50,false,\n"
    )
    missing = cli("deals", "import", str(path), env=env)
    assert missing.returncode == 1
    assert "--map deal=COLUMN" in missing.stderr
    done = cli("deals", "import", str(path), "--map", "deal=Opp No,customer=Account,outcome=IsWon", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["inserted"], report["rejected"], report["outcomes"]) == (2, 0, {"won": 1, "open": 1})
    again = cli("deals", "import", str(path), "--map", "deal=Opp No,customer=Account,outcome=IsWon", "--json", env=env)
    assert json.loads(again.stdout)["unchanged"] == 2

    listed = cli("deals", "list", "--outcome", "open", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [d["external_id"] for d in json.loads(listed.stdout)["data"]] == ["A-2"]
    assert cli("deals", "list", "--outcome", "sideways", env=env).returncode == 1

    changed = cli("deals", "set", "A-2", "--outcome", "won", "--closed-at", "2026-11-30", env=env)
    assert changed.returncode == 0, changed.stderr
    assert "won" in changed.stdout
    with Session(runtime.engine) as s:
        deal = s.exec(select(Deal).where(Deal.external_id == "A-2")).one()
        assert (deal.outcome, deal.closed_at) == ("won", datetime(2026, 11, 30, tzinfo=UTC))
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "deal.update")).one().actor == "cli"
    assert cli("deals", "set", "nope", "--outcome", "won", env=env).returncode == 1
