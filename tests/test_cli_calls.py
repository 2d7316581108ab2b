"""The CLI against a real server: credentials checked before an upload, `insight calls list/set`, readable output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from insight.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving
from tests.test_cli import cli_env, insight

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Recorder:
    """The app as served, noting each HTTP request's method and path (observes only)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[tuple[str, Recorder, Runtime]]:
    runtime = Runtime.build(make_settings(tmp_path, db_url))
    recorder = Recorder(create_app(runtime.settings, runtime=runtime, embedded_worker=False))
    with serving(recorder) as url:  # type: ignore[arg-type]
        yield url, recorder, runtime
    runtime.close()


def env_with(tmp_path: Path, token: str | None) -> dict[str, str]:
    env = cli_env(tmp_path / "cli")
    env["COLUMNS"] = "200"
    if token is not None:
        env["INSIGHT_TOKEN"] = token
    return env


@SQLITE_ONLY
def test_upload_checks_credentials_before_sending_the_file(
    served: tuple[str, Recorder, Runtime], tmp_path: Path
) -> None:
    url, recorder, runtime = served
    wav = bad_audio.good_wav(tmp_path / "long.wav", seconds=30.0, channels=1)
    posts = [("POST", "/api/calls")]

    anonymous = insight("upload", str(wav), "--server", url, env=env_with(tmp_path, None), timeout=60)
    assert anonymous.returncode == 1
    assert "No API token" in anonymous.stderr
    assert "insight tokens create" in anonymous.stderr
    assert recorder.seen == []  # nothing sent at all

    bogus = insight("upload", str(wav), "--server", url, env=env_with(tmp_path, "ins_not_a_token"), timeout=60)
    assert bogus.returncode == 1
    assert "refused the API token" in bogus.stderr
    assert recorder.seen == [("GET", "/api/auth/me")]

    reader = auth.make_user(runtime, "reader@example.com", scopes=["calls:read"])
    read_only = insight("upload", str(wav), "--server", url, env=env_with(tmp_path, reader.token), timeout=60)
    assert read_only.returncode == 1
    assert "lacks the calls:write scope" in read_only.stderr
    assert not [r for r in recorder.seen if r in posts]


@SQLITE_ONLY
def test_calls_list_and_set(served: tuple[str, Recorder, Runtime], tmp_path: Path) -> None:
    url, _, runtime = served
    rep = auth.make_user(runtime, "rep@example.com")
    env = env_with(tmp_path, rep.token)
    wav = bad_audio.good_wav(tmp_path / "商談.wav", seconds=2.0, channels=1)
    first = insight("upload", str(wav), "--server", url, "--customer", "C-1", "--language", "ja", env=env, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    again = insight("upload", str(wav), "--server", url, "--customer", "C-2", env=env, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    out = " ".join(again.stdout.split())
    assert "(already uploaded)" in out
    assert "customer_external_id 'C-1' (this upload: 'C-2')" in out
    call_id = re.search(r"call (\d+)", again.stdout)
    assert call_id is not None

    changed = insight("calls", "set", call_id[1], "--customer", "C-2", "--server", url, env=env, timeout=60)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert f"call {call_id[1]}: customer C-2" in changed.stdout

    listed = insight("calls", "list", "--customer", "C-2", "--language", "ja", "--json", "--server", url, env=env)
    assert listed.returncode == 0, listed.stderr
    body = json.loads(listed.stdout)
    assert body["count"] == 1
    assert [(c["id"], c["filename"], c["customer_external_id"]) for c in body["data"]] == [
        (int(call_id[1]), "商談.wav", "C-2")
    ]
    table = insight("calls", "list", "--status", "queued", "--since", "2020-01-01", "--server", url, env=env)
    assert table.returncode == 0, table.stderr
    assert "商談.wav" in table.stdout
    assert "C-2" in table.stdout
    assert table.stderr.strip() == "1 call"
    assert insight("calls", "list", "--customer", "C-1", "--server", url, env=env).stderr.strip() == "0 calls"
    bad = insight("calls", "list", "--since", "last week", "--server", url, env=env)
    assert bad.returncode == 2
    assert "YYYY-MM-DD" in bad.stderr
    nothing = insight("calls", "set", call_id[1], "--server", url, env=env)
    assert nothing.returncode == 2
    assert "--customer" in nothing.stderr


def test_account_commands_read_well(tmp_path: Path) -> None:
    env = env_with(tmp_path, None)
    help_text = insight("users", "create", "--help", env=env).stdout
    assert "--no-password" in help_text
    assert "--no-no-password" not in help_text
    tokens_help = insight("tokens", "create", "--help", env=env).stdout
    assert "--no-expiry" in tokens_help
    assert "--no-no-expiry" not in tokens_help
    made = insight("users", "create", "svc@example.com", "--no-password", env=env)
    assert made.returncode == 0, made.stderr
    token = insight("tokens", "create", "svc@example.com", "--days", "30", env=env)
    assert token.returncode == 0, token.stderr
    assert re.search(r"expires \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\n", token.stdout), token.stdout
    as_json = json.loads(insight("tokens", "create", "svc@example.com", "--json", env=env).stdout)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", as_json["expires_at"])
