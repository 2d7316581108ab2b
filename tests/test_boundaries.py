"""The import contracts in pyproject.toml (``make lint`` runs them): kept on the tree, broken by a deliberate breach."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_tree_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_breach_of_each_contract_is_reported(tmp_path: Path) -> None:
    for name in ("api", "insight", "models", "scripts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    def append(path: str, line: str) -> None:
        with (tmp_path / path).open("a", encoding="utf-8") as f:
            f.write(f"\n{line}\n")

    append("insight/segments/service.py", "from api import errors as _api_errors  # a service reaching up")
    append("insight/repositories/calls.py", "from insight.calls import service as _calls")
    append("insight/customers/service.py", "from insight.transcribe import diarize as _diarize")
    append("insight/nlp/service.py", "from insight.cli import common as _cli  # the core importing its command line")
    append("insight/transcribe/engine.py", "from insight import queue as _queue  # an engine reaching for the queue")

    done = lint_imports(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "5 broken" in out, out
    assert "insight.segments.service -> api.errors" in out
    assert "insight.repositories.calls -> insight.calls.service" in out
    assert "insight.customers.service -> insight.transcribe.diarize" in out
    assert "insight.nlp.service -> insight.cli.common" in out
    assert "insight.transcribe.engine -> insight.queue" in out
