"""A customer record lists and counts only the calls its reader may see: a customer shared by two teams does not
reveal one team's calls (file names, lengths) to the other, through a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from api.main import create_app
from insight.db import session_scope
from insight.repositories import customers as customers_repo
from insight.runtime import Runtime
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving


def upload(client: httpx.Client, who: auth.Account, path: Path, name: str, customer: str) -> int:
    with path.open("rb") as fh:
        r = client.post(
            "/api/calls",
            files={"file": (name, fh)},
            data={"customer_external_id": customer},
            headers=who.headers,
        )
    assert r.status_code == 201, r.text
    call_id: int = r.json()["id"]
    return call_id


def test_customer_record_shows_only_visible_calls(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.engine) as s:
        customer, _ = customers_repo.upsert(s, source="crm", external_id="C-2002", values={"name": "株式会社サンプル"})
        customer_id = customer.id
    admin = auth.admin(runtime)
    west_rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    west_boss = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    east_rep = auth.make_user(runtime, "rep.east@example.com", role="rep", team="east")
    east_boss = auth.make_user(runtime, "boss.east@example.com", role="manager", team="east")
    sync = auth.make_user(runtime, "sync@example.com", role="manager", team="ops", scopes=["sync"])
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    west_wav = bad_audio.good_wav(tmp_path / "w.wav", seconds=2.0, channels=1)
    east_wav = bad_audio.good_wav(tmp_path / "e.wav", seconds=1.0, channels=1)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        west_call = upload(client, west_rep, west_wav, "west-secret-pricing.wav", "C-2002")
        east_call = upload(client, east_rep, east_wav, "east-visit.wav", "C-2002")

        def record(who: auth.Account) -> dict[str, Any]:
            r = client.get(f"/api/customers/{customer_id}", headers=who.headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            assert "west-secret-pricing" not in r.text or who in (west_boss, admin)
            return body

        # The east manager: their team's call only; the west call is neither listed nor counted...
        east = record(east_boss)
        assert [c["id"] for c in east["calls"]] == [east_call]
        assert east["calls_total"] == 1
        # ...exactly as the call itself answers them.
        assert client.get(f"/api/calls/{west_call}", headers=east_boss.headers).status_code == 404
        # The west manager: the west call only; an admin: both.
        west = record(west_boss)
        assert [c["id"] for c in west["calls"]] == [west_call]
        assert west["calls"][0]["filename"] == "west-secret-pricing.wav"
        assert west["calls_total"] == 1
        everything = record(admin)
        assert sorted(c["id"] for c in everything["calls"]) == sorted([west_call, east_call])
        assert everything["calls_total"] == 2
        # A sync service account (a manager of another team, sync scope only) sees the customer but no call.
        synced = record(sync)
        assert synced["profile"]["name"] == "株式会社サンプル"
        assert (synced["calls"], synced["calls_total"]) == ([], 0)
        # The rest of the record (the customer's own data) is the same for every reader.
        assert east["profile"] == west["profile"] == everything["profile"]
