"""``insight topics fit`` and ``insight topics list`` as a separate process against the test's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from insight.runtime import Runtime
from tests.fixtures.cli import cli, cli_env
from tests.insight.topics.conftest import Corpus, store_calls

pytestmark = pytest.mark.slow


def test_fit_and_list_topics(runtime: Runtime, corpus: Corpus, tmp_path: Path) -> None:
    env = cli_env(runtime, tmp_path)
    empty = cli("topics", "list", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "No customer topics yet" in empty.stdout
    too_few = cli("topics", "fit", env=env)
    assert too_few.returncode != 0
    assert "insufficient_data" in too_few.stderr or "utterances" in too_few.stderr
    assert cli("topics", "fit", "--side", "boss", env=env).returncode != 0

    store_calls(runtime.engine, corpus.texts[:600], corpus.matrix[:600])
    fitted = cli("topics", "fit", "--json", env=env)
    assert fitted.returncode == 0, fitted.stderr
    run = json.loads(fitted.stdout)
    assert (run["status"], run["side"], run["utterances"]) == ("done", "customer", 600)
    listed = cli("topics", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    topics = json.loads(listed.stdout)
    assert len(topics) == run["topics"]
    assert all(t["keywords"] and t["calls"] > 0 for t in topics)
    assert abs(sum(t["share"] for t in topics) - 1.0) < 1e-6
    table = cli("topics", "list", env=env)
    assert table.returncode == 0, table.stderr
    assert f"fit {run['id']}" in table.stdout
