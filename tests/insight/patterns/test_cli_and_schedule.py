"""``insight insights compute`` and ``show`` as a separate process, and the nightly ``patterns.compute`` job."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from insight.patterns import tasks
from insight.patterns.corpora import persuasion_for_good
from insight.pipeline import REGISTRY
from insight.runtime import Runtime
from models import Job
from models.pattern import PatternRun
from tests.conftest import SHARED_DATA, shared
from tests.fixtures.cli import cli, cli_env
from tests.fixtures.patterns import load_deals

PFG = SHARED_DATA / "conversations" / "en" / "persuasionforgood"


def test_cli_computes_and_shows_win_patterns(runtime: Runtime, tmp_path: Path) -> None:
    env = cli_env(runtime, tmp_path)
    missing = cli("insights", "show", env=env)
    assert missing.returncode != 0
    assert "insights compute" in missing.stderr + missing.stdout
    load_deals(runtime, persuasion_for_good(shared(PFG), segmentation="income").deals[:400])
    done = cli("insights", "compute", "--segmentation", "customer.segment", "--json", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["run"]["deals"] == 400
    assert out["run"]["segmentation"] == "customer.segment"
    assert all(p["significant"] for p in out["patterns"])
    shown = cli("insights", "show", "--segmentation", "customer.segment", "--all", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "400 deals" in shown.stdout
    assert "word:" in shown.stdout
    bad = cli("insights", "compute", "--segmentation", "colour", env=env)
    assert bad.returncode != 0
    assert "segmentation" in bad.stderr + bad.stdout


def test_nightly_job_computes_each_configured_segmentation(runtime: Runtime) -> None:
    assert any(s.name == "patterns.compute" for s in REGISTRY.schedules)
    assert runtime.settings.patterns_interval_s == 86400.0
    load_deals(runtime, persuasion_for_good(shared(PFG), segmentation="age").deals[:60])
    runtime.settings.patterns_segmentations = ["rfm", "customer.segment"]
    handle = tasks.make_handler(runtime)

    class _Ctx:
        def check(self) -> None:
            return None

    apply = handle(Job(name="patterns.compute", queue="analyze", key="k"), _Ctx())  # type: ignore[arg-type]
    with Session(runtime.engine) as session:
        assert apply(session) == []
        runs = session.exec(select(PatternRun)).all()
    # rfm has no segment run yet: skipped, not failed; the customer attribute is computed.
    assert [(r.segmentation, r.trigger, r.status) for r in runs] == [("customer.segment", "periodic", "done")]
