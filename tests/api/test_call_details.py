"""A call's customer, deal and recording time: what a repeated upload keeps, how to change them, lists by them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.main import create_app
from insight.db import session_scope
from insight.runtime import Runtime
from models import Call, Customer, CustomerExternalId
from tests.fixtures import auth, bad_audio


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime=runtime, embedded_worker=False)) as c:
        yield c


def upload(client: TestClient, who: auth.Account, path: Path, **data: str) -> httpx.Response:
    with path.open("rb") as fh:
        return client.post("/api/calls", files={"file": (path.name, fh)}, data=data, headers=who.headers)


def customer(runtime: Runtime, external_id: str) -> int:
    with session_scope(runtime.engine) as session:
        row = Customer(name="東西物産")
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add(CustomerExternalId(customer_id=row.id, source="crm", external_id=external_id))
        return row.id


def linked_customer(runtime: Runtime, call_id: int) -> int | None:
    with Session(runtime.engine) as session:
        call = session.get(Call, call_id)
        assert call is not None
        return call.customer_id


def test_reupload_with_another_customer_says_what_it_kept_and_how_to_change_it(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    rep = auth.make_user(runtime, "rep@example.com", role="rep", team="east")
    stranger = auth.make_user(runtime, "other@example.com", role="manager", team="west")
    first_customer, second_customer = customer(runtime, "C-1"), customer(runtime, "C-2")
    wav = bad_audio.good_wav(tmp_path / "call.wav", seconds=2.0, channels=1)
    first = upload(client, rep, wav, customer_external_id="C-1", deal_external_id="D-1")
    assert first.status_code == 201, first.text
    call_id = first.json()["id"]
    assert first.json()["not_applied"] == []
    assert first.json()["notice"] is None
    assert linked_customer(runtime, call_id) == first_customer

    again = upload(client, rep, wav, customer_external_id="C-2")
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["duplicate"] is True
    assert body["id"] == call_id
    assert body["customer_external_id"] == "C-1"  # kept, and now said so
    assert body["not_applied"] == ["customer_external_id"]
    assert "customer_external_id 'C-1' (this upload: 'C-2')" in body["notice"]
    assert f"PATCH /api/calls/{call_id}" in body["notice"]
    assert f"insight calls set {call_id}" in body["notice"]
    same = upload(client, rep, wav).json()
    assert same["duplicate"] is True
    assert same["not_applied"] == []
    assert same["notice"] == f"You uploaded these bytes before: this is call {call_id}, unchanged."

    # The way the notice points to: the customer changes and the link follows; the deal stays unless given.
    changed = client.patch(f"/api/calls/{call_id}", json={"customer_external_id": "C-2"}, headers=rep.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["customer_external_id"], changed.json()["deal_external_id"]) == ("C-2", "D-1")
    assert linked_customer(runtime, call_id) == second_customer
    cleared = client.patch(f"/api/calls/{call_id}", json={"deal_external_id": ""}, headers=rep.headers)
    assert cleared.json()["deal_external_id"] is None
    dated = client.patch(
        f"/api/calls/{call_id}", json={"recorded_at": "2026-11-25T10:00:00+09:00"}, headers=rep.headers
    )
    assert datetime.fromisoformat(dated.json()["recorded_at"]) == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

    # Bad input says what to send; a call one may not see stays invisible.
    empty = client.patch(f"/api/calls/{call_id}", json={}, headers=rep.headers)
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "empty_update")
    naive = client.patch(f"/api/calls/{call_id}", json={"recorded_at": "2026-11-25T10:00:00"}, headers=rep.headers)
    assert (naive.status_code, naive.json()["error"]["code"]) == (400, "invalid_recorded_at")
    hidden = client.patch(f"/api/calls/{call_id}", json={"customer_external_id": "X"}, headers=stranger.headers)
    assert hidden.status_code == 404
    assert client.get(f"/api/calls/{call_id}", headers=rep.headers).json()["customer_external_id"] == "C-2"


def test_list_filters(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    rep = auth.make_user(runtime, "rep@example.com", role="rep", team="east")
    other = auth.make_user(runtime, "rep2@example.com", role="rep", team="east")
    made = []
    for i, (who, cust, lang, when) in enumerate(
        [
            (rep, "C-1", "ja", "2026-11-02T10:00:00+09:00"),
            (rep, "C-2", "en", "2026-11-20T10:00:00+00:00"),
            (rep, "C-1", "en", None),
            (other, "C-1", "ja", "2026-11-03T10:00:00+09:00"),
        ]
    ):
        wav = bad_audio.good_wav(tmp_path / f"c{i}.wav", seconds=1.0 + i / 10, channels=1)
        data = {"customer_external_id": cust, "language": lang} | ({"recorded_at": when} if when else {})
        r = upload(client, who, wav, **data)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])

    def ids(**params: str) -> list[int]:
        r = client.get("/api/calls", params=params, headers=rep.headers)
        assert r.status_code == 200, r.text
        assert r.json()["count"] == len(r.json()["data"])
        return [c["id"] for c in r.json()["data"]]

    assert ids() == made[2::-1]  # the rep's own, newest first; the colleague's call is not theirs to see
    assert ids(customer="C-1") == [made[2], made[0]]
    assert ids(language="en") == [made[2], made[1]]
    assert ids(rep="rep@example.com", language="ja") == [made[0]]
    assert ids(since="2026-11-01", until="2026-11-15") == [made[0]]
    assert ids(since="2026-11-20T10:00:00Z") == [made[2], made[1]]  # the undated call took place at upload
    assert ids(status="queued", customer="C-2") == [made[1]]
    bad = client.get("/api/calls", params={"since": "last week"}, headers=rep.headers)
    assert bad.status_code == 422
