"""Upload and read back through the real app (SQLite and PostgreSQL), with bad input leaving nothing behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from insight import pipeline
from insight.calls.service import check_filename
from insight.db import session_scope
from insight.errors import InvalidUpload
from insight.runtime import Runtime
from insight.worker import build_runner
from models import Call, Job, Utterance
from tests.fixtures import auth, bad_audio
from tests.fixtures.rows import processed_call


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with TestClient(app, headers=auth.admin(runtime).headers) as c:
        yield c


def counts(runtime: Runtime) -> tuple[int, int, int, int]:
    with Session(runtime.engine) as s:
        return (
            len(s.exec(select(Call)).all()),
            len(s.exec(select(Job)).all()),
            len(s.exec(select(Utterance)).all()),
            len(list(runtime.store.iter_files())),
        )


def upload(client: TestClient, path: Path, name: str | None = None, **data: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return client.post("/api/calls", files={"file": (name or path.name, fh)}, data=data)


def test_upload_then_read_back(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    wav = bad_audio.good_wav(tmp_path / "call.wav", seconds=3.0, channels=2)
    r = upload(client, wav, customer_external_id="C-1", deal_external_id="D-9", language="ja", rep_channel="right")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued"
    assert body["duplicate"] is False
    assert body["channels"] == 2
    assert body["rep_channel"] == "right"
    assert body["language_hint"] == "ja"
    assert body["customer_external_id"] == "C-1"
    assert body["deal_external_id"] == "D-9"
    assert abs(body["duration_s"] - 3.0) < 0.05
    assert [j["state"] for j in body["jobs"]] == ["queued"]
    assert runtime.store.exists(body["sha256"])
    call_id = body["id"]

    got = client.get(f"/api/calls/{call_id}").json()
    assert got["id"] == call_id
    assert got["status"] == "queued"
    assert got["progress"] == 0.0
    transcript = client.get(f"/api/calls/{call_id}/transcript").json()
    assert transcript["utterances"] == []
    assert transcript["status"] == "queued"
    listing = client.get("/api/calls", params={"limit": 10}).json()
    assert listing["count"] == 1
    assert listing["data"][0]["id"] == call_id
    assert client.get("/openapi.json").json()["paths"]["/api/calls"]["post"]
    assert client.get("/").status_code == 200
    assert client.get(f"/calls/{call_id}").status_code == 200
    audio = client.get(f"/api/calls/{call_id}/audio")
    assert audio.status_code == 200
    assert audio.content == wav.read_bytes()


def test_same_bytes_twice_is_one_call_and_one_job(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    wav = bad_audio.good_wav(tmp_path / "a.wav", seconds=2.0, channels=1)
    first = upload(client, wav)
    second = upload(client, wav, name="renamed.wav")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]
    assert counts(runtime)[:2] == (1, 1)
    assert counts(runtime)[3] == 1


def test_paging(client: TestClient, tmp_path: Path) -> None:
    for i in range(5):
        assert (
            upload(client, bad_audio.good_wav(tmp_path / f"{i}.wav", seconds=1.0 + i / 10, channels=1)).status_code
            == 201
        )
    page = client.get("/api/calls", params={"offset": 1, "limit": 2}).json()
    assert page["count"] == 5
    assert len(page["data"]) == 2
    ids = [c["id"] for c in page["data"]]
    assert ids == sorted(ids, reverse=True)
    assert client.get("/api/calls", params={"limit": 0}).status_code == 422


def test_dashboard_pages_through_the_calls(client: TestClient, runtime: Runtime) -> None:
    """The call list on the dashboard shows 50 calls a page, newest first, with links to the next and previous."""
    with session_scope(runtime.engine) as s:
        s.add_all(processed_call(i, f"商談-{i:03d}.m4a") for i in range(120))
    first = client.get("/", params={"lang": "ja"}).text
    assert "商談一覧 (120)" in first
    assert "商談-119.m4a" in first
    assert "商談-070.m4a" in first
    assert "商談-069.m4a" not in first
    assert "1 / 3 ページ" in first
    assert 'href="/?page=2&amp;lang=ja"' in first
    assert 'rel="prev"' not in first
    last = client.get("/", params={"page": 3, "lang": "en"}).text
    assert "商談-019.m4a" in last
    assert "商談-000.m4a" in last
    assert "商談-020.m4a" not in last
    assert "Page 3 of 3" in last
    assert 'href="/?page=2&amp;lang=en"' in last
    assert 'rel="next"' not in last
    assert "<tr><td>" not in client.get("/", params={"page": 4}).text.split("<tbody>")[-1]
    assert client.get("/", params={"page": 0}).status_code == 422


BAD: list[tuple[str, Callable[[Path], Path], int, str]] = [
    ("empty", bad_audio.empty_file, 400, "empty_file"),
    ("random bytes .mp3", bad_audio.random_bytes_mp3, 415, ""),
    ("png", bad_audio.png_file, 415, ""),
    ("text renamed .wav", bad_audio.text_as_wav, 415, ""),
    ("truncated m4a", bad_audio.truncated_m4a, 422, ""),
    ("truncated mp3", bad_audio.truncated_mp3, 422, "truncated"),
    ("mp4 without audio", bad_audio.mp4_no_audio, 422, "no_audio_track"),
]


@pytest.mark.parametrize(("label", "make", "status", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_rejected_and_leaves_nothing(
    client: TestClient,
    runtime: Runtime,
    tmp_path: Path,
    label: str,
    make: Callable[[Path], Path],
    status: int,
    code: str,
) -> None:
    path = make(tmp_path)
    r = upload(client, path)
    assert r.status_code == status, (label, r.text)
    err = r.json()["error"]
    assert err["message"], err
    assert err["hint"], err
    if code:
        assert err["code"] == code
    assert counts(runtime) == (0, 0, 0, 0)
    assert leftovers(runtime.settings.tmp_dir) == []


def leftovers(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.exists() else []


# 10 s is rejected on the declared Content-Length; 6.5 s (208 kB, within the 64 kB multipart allowance) only while
# the bytes are streamed to disk and counted.
@pytest.mark.parametrize("seconds", [10.0, 6.5])
def test_file_over_the_size_cap(runtime: Runtime, tmp_path: Path, seconds: float) -> None:
    settings = runtime.settings.model_copy(update={"max_upload_bytes": 200_000})
    small = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    app = create_app(settings, runtime=small, embedded_worker=False)
    big = bad_audio.good_wav(tmp_path / "big.wav", seconds=seconds, channels=1)
    with TestClient(app, headers=auth.admin(runtime).headers) as c:
        r = upload(c, big)
    assert r.status_code == 413
    assert "MiB" in r.json()["error"]["message"]
    assert r.json()["error"]["hint"]
    assert counts(runtime) == (0, 0, 0, 0)
    assert leftovers(settings.tmp_dir) == []


# httpx percent-encodes control characters in multipart names, so those are checked on check_filename directly.
@pytest.mark.parametrize("name", ["../../etc/passwd.wav", "..\\evil.wav", "a/b.wav", "..", "/etc/shadow.mp3"])
def test_path_traversal_file_names(client: TestClient, runtime: Runtime, tmp_path: Path, name: str) -> None:
    wav = bad_audio.good_wav(tmp_path / "ok.wav", seconds=1.0, channels=1)
    r = upload(client, wav, name=name)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["hint"]
    assert counts(runtime) == (0, 0, 0, 0)


@pytest.mark.parametrize("name", ["bad\x00name.wav", "new\nline.wav", "", " ", "x" * 300 + ".wav"])
def test_unusable_file_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidUpload) as info:
        check_filename(name)
    assert info.value.hint


def test_bad_fields(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    mono = bad_audio.good_wav(tmp_path / "m.wav", seconds=1.0, channels=1)
    r = upload(client, mono, language="klingon")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_language"
    r = upload(client, mono, rep_channel="left")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "not_stereo"
    stereo = bad_audio.good_wav(tmp_path / "s.wav", seconds=1.0, channels=2)
    r = upload(client, stereo, rep_channel="middle")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_rep_channel"
    assert counts(runtime) == (0, 0, 0, 0)
    r = client.post("/api/calls", data={"language": "ja"})
    assert r.status_code == 422
    assert "file" in r.json()["error"]["message"]


def test_unknown_call(client: TestClient) -> None:
    for url in ("/api/calls/999", "/api/calls/999/transcript"):
        r = client.get(url)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
    assert client.post("/api/calls/999/retry").status_code == 404


def test_failed_job_is_visible_and_can_be_retried(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    """A call whose audio vanished fails with a visible error; once the audio is back, a retry completes it."""

    class SilentTranscriber:
        def detect_language(self, audio):  # type: ignore[no-untyped-def]
            return "ja", 1.0

        def transcribe(self, audio, **kw):  # type: ignore[no-untyped-def]
            return []

    runtime.models.set_transcriber(SilentTranscriber())
    wav = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    call_id = upload(client, wav).json()["id"]
    assert client.post(f"/api/calls/{call_id}/retry").status_code == 409  # not failed
    sha = client.get(f"/api/calls/{call_id}").json()["sha256"]
    stored = runtime.store.path_for(sha)
    kept = stored.read_bytes()
    stored.unlink()
    runner = build_runner(runtime)
    assert runner.run_next("transcribe")
    failed = client.get(f"/api/calls/{call_id}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "not_found"
    assert "missing" in failed["error"]["message"]
    assert failed["jobs"][0]["state"] == "failed"
    assert failed["jobs"][0]["attempt"] == 1

    stored.write_bytes(kept)
    r = client.post(f"/api/calls/{call_id}/retry")
    assert r.status_code == 202
    assert r.json()["status"] == "queued"
    assert r.json()["error"] is None
    assert runner.run_next("transcribe")
    assert client.get(f"/api/calls/{call_id}").json()["stage"] == "diarize.call"
    assert runner.run_next("analyze")
    assert client.get(f"/api/calls/{call_id}").json()["stage"] == "analyze.call"
    assert runner.run_next("analyze")
    assert client.get(f"/api/calls/{call_id}").json()["stage"] == "topics.assign"
    assert runner.run_next("analyze")
    done = client.get(f"/api/calls/{call_id}").json()
    assert done["status"] == "done"
    assert done["progress"] == 100.0
    assert done["jobs"][0]["attempt"] == 2
    assert done["jobs"][0]["state"] == "done"
    # One call; its transcription job (retried), and one job for each later stage.
    assert counts(runtime)[:2] == (1, len(pipeline.REGISTRY.stages))
