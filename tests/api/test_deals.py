"""Deals and the customer's insight profile through a real server (SQLite and PostgreSQL): an upload naming a new
deal creates it; a Japanese CP932 deal file imported twice adds nothing the second time; a manager marks a deal won
(audited) and a rep may not; the customer record shows the call's needs, objections, next actions, competitors and
sentiment with their evidence (redacted for a manager, original for an admin); a manager of another team sees no
call and no item from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from api.main import create_app
from insight.db import session_scope
from insight.nlp.minutes.schemas import (
    Mention,
    MinutesDoc,
    MinutesItem,
    NextAction,
    Owner,
    Sentiment,
)
from insight.repositories import customers as customers_repo
from insight.runtime import Runtime
from models import AuditEvent, Deal, Minutes, Utterance
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

ORIGINAL = [
    "田中です。御社のSFAとの連携が必要です。",
    "価格が高いのが懸念です。競合のサンプル社も検討しています。",
    "来週の金曜日までに見積書をお送りします。",
]
REDACTED = [
    "[氏名]です。御社のSFAとの連携が必要です。",
    "価格が高いのが懸念です。競合のサンプル社も検討しています。",
    "来週の金曜日までに見積書をお送りします。",
]
DEALS_CSV = (
    "商談ID,顧客ID,商談名,フェーズ,金額,通貨,結果,クローズ日\n"
    "D-100,C-2002,基幹刷新,提案,3000000,JPY,商談中,\n"
    "D-101,C-2002,保守,契約,240000,JPY,受注,2026/10/01\n"
)


def write_minutes(runtime: Runtime, call_id: int) -> None:
    """The call's transcript and minutes as the analyze stage writes them (original and redacted)."""
    with session_scope(runtime.engine) as s:
        rows = [
            Utterance(
                call_id=call_id,
                idx=i,
                start=float(i * 5),
                end=float(i * 5 + 4),
                speaker="S2" if i < 2 else "S1",
                text=text,
                text_redacted=REDACTED[i],
            )
            for i, text in enumerate(ORIGINAL)
        ]
        s.add_all(rows)
        s.flush()
        ids = [u.id for u in rows if u.id is not None]
        assert len(ids) == len(rows)

        def doc(name: str) -> dict[str, Any]:
            return MinutesDoc(
                language="ja",
                reference_date=date(2026, 11, 20),
                needs=[
                    MinutesItem(text="SFAとの連携", utterance_ids=[ids[0]], start=0.0, role="customer", confidence=0.8)
                ],
                objections=[
                    MinutesItem(text="価格が高い", utterance_ids=[ids[1]], start=5.0, role="customer", confidence=0.7)
                ],
                next_actions=[
                    NextAction(
                        text="見積書を送付",
                        utterance_ids=[ids[2]],
                        start=10.0,
                        role="rep",
                        confidence=0.9,
                        owner=Owner(role="rep", name=name),
                        due=date(2026, 11, 27),
                        due_text="来週の金曜日",
                    )
                ],
                competitors=[
                    Mention(
                        text=ORIGINAL[1],
                        utterance_ids=[ids[1]],
                        start=5.0,
                        confidence=0.6,
                        name="サンプル社",
                        mentions=1,
                    )
                ],
                sentiment=Sentiment(overall=-0.2, label="negative", confidence=0.5, cues=2),
            ).model_dump(mode="json")

        s.add(
            Minutes(
                call_id=call_id,
                language="ja",
                backend="offline",
                content=doc("田中"),
                content_redacted=doc("[氏名]"),
                generated_at=datetime.now(UTC),
            )
        )


def upload(client: httpx.Client, who: auth.Account, path: Path, name: str, **data: str) -> int:
    with path.open("rb") as fh:
        r = client.post("/api/calls", files={"file": (name, fh)}, data=data, headers=who.headers)
    assert r.status_code == 201, r.text
    call_id: int = r.json()["id"]
    return call_id


def test_deals_and_customer_insights(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.engine) as s:
        customer, _ = customers_repo.upsert(
            s, source="import", external_id="C-2002", values={"name": "株式会社サンプル"}
        )
        customer_id = customer.id
    admin = auth.admin(runtime)
    west_rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    west_boss = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    east_rep = auth.make_user(runtime, "rep.east@example.com", role="rep", team="east")
    east_boss = auth.make_user(runtime, "boss.east@example.com", role="manager", team="east")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    wav = bad_audio.good_wav(tmp_path / "w.wav", seconds=2.0, channels=1)
    csv_path = tmp_path / "商談.csv"
    csv_path.write_bytes(DEALS_CSV.encode("cp932"))
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # An upload naming a deal nobody imported yet: the deal exists, open, with the call's customer.
        call_id = upload(client, west_rep, wav, "visit.wav", customer_external_id="C-2002", deal_external_id="D-100")
        r = client.get("/api/deals", params={"customer": "C-2002"}, headers=west_boss.headers)
        assert r.status_code == 200, r.text
        (deal,) = r.json()["data"]
        assert (deal["external_id"], deal["outcome"], deal["customer_id"]) == ("D-100", "open", customer_id)
        assert deal["call_ids"] == [call_id]
        deal_id = deal["id"]

        # The deal file (Japanese headers, CP932), twice: the second time nothing changes.
        def import_file() -> dict[str, Any]:
            with csv_path.open("rb") as fh:
                r = client.post("/api/deals/import", files={"file": ("商談.csv", fh)}, headers=west_boss.headers)
            assert r.status_code == 201, r.text
            body: dict[str, Any] = r.json()
            return body

        first = import_file()
        assert first["encoding"] == "cp932"
        assert (first["inserted"], first["updated"], first["unchanged"], first["rejected"]) == (1, 1, 0, 0)
        assert first["outcomes"] == {"open": 1, "won": 1}
        second = import_file()
        assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 2)
        with Session(runtime.engine) as s:
            assert sorted(d.external_id for d in s.exec(select(Deal)).all()) == ["D-100", "D-101"]
        assert client.get(f"/api/deals/{deal_id}", headers=west_boss.headers).json()["name"] == "基幹刷新"
        # A file without a deal id column names the column to map.
        bad = tmp_path / "x.csv"
        bad.write_text("Opp,Result\nX-1,won\n")
        with bad.open("rb") as fh:
            r = client.post("/api/deals/import", files={"file": ("x.csv", fh)}, headers=west_boss.headers)
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "missing_columns"
        assert "--map deal=COLUMN" in r.json()["error"]["hint"]
        with bad.open("rb") as fh:
            r = client.post(
                "/api/deals/import",
                files={"file": ("x.csv", fh)},
                data={"mapping": "deal=Opp,outcome=Result"},
                headers=west_boss.headers,
            )
        assert r.status_code == 201, r.text

        # Reps read the deals of their calls, may not edit them; another team's rep does not see them.
        assert client.get(f"/api/deals/{deal_id}", headers=west_rep.headers).status_code == 200
        assert client.get(f"/api/deals/{deal_id}", headers=east_rep.headers).status_code == 404
        assert [d["id"] for d in client.get("/api/deals", headers=east_rep.headers).json()["data"]] == []
        r = client.patch(f"/api/deals/{deal_id}", json={"outcome": "won"}, headers=west_rep.headers)
        assert r.status_code == 403
        # A manager marks it won: closed now, audited.
        r = client.patch(f"/api/deals/{deal_id}", json={"outcome": "受注"}, headers=west_boss.headers)
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "won"
        assert r.json()["closed_at"] is not None
        r = client.patch(f"/api/deals/{deal_id}", json={"outcome": "maybe"}, headers=west_boss.headers)
        assert r.status_code == 400
        with Session(runtime.engine) as s:
            (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "deal.update")).all()
        assert event.actor_user_id == west_boss.user_id
        assert event.details["after"]["outcome"] == "won"
        won = client.get("/api/deals", params={"outcome": "won"}, headers=admin.headers).json()
        assert sorted(d["external_id"] for d in won["data"]) == ["D-100", "D-101", "X-1"]

        # The customer's insights, from the call's minutes.
        write_minutes(runtime, call_id)

        def record(who: auth.Account, url: str = f"/api/customers/{customer_id}") -> dict[str, Any]:
            r = client.get(url, headers=who.headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

        west = record(west_boss)["insights"]
        (need,) = west["needs"]
        assert need["text"] == "SFAとの連携"
        assert need["evidence"]["call_id"] == call_id
        assert need["evidence"]["quote"] == REDACTED[0]  # a manager reads the redacted text
        assert need["evidence"]["view"] == "redacted"
        assert need["evidence"]["start"] == 0.0
        (action,) = west["next_actions"]
        assert (action["text"], action["owner_role"], action["owner_name"]) == ("見積書を送付", "rep", "[氏名]")
        assert (action["due"], action["due_text"]) == ("2026-11-27", "来週の金曜日")
        assert action["evidence"]["quote"] == ORIGINAL[2]
        assert [c["name"] for c in west["competitors"]] == ["サンプル社"]
        assert [(p["call_id"], p["label"]) for p in west["sentiment"]] == [(call_id, "negative")]
        assert west["objections"] == []  # the call's deal is won: its objections are settled
        assert west["last_contact"] is not None
        assert {d["external_id"]: d["outcome"] for d in west["deals"]} == {"D-100": "won", "D-101": "won"}
        assert [(c["call_id"], c["outcome"]) for c in west["calls"]] == [(call_id, "won")]
        assert west["topics"] == []  # no topics fitted yet
        assert west["win_patterns"] == []  # no win patterns computed yet
        full = record(west_boss)
        assert full["calls"][0]["insights"]["needs"] == 1

        everything = record(admin, "/api/customers/by-external-id/import/C-2002")["insights"]
        assert everything["needs"][0]["evidence"]["quote"] == ORIGINAL[0]  # an admin reads the original
        assert everything["next_actions"][0]["owner_name"] == "田中"

        # The east manager: no call, hence no need, action, competitor or sentiment of it, and no quote.
        east = record(east_boss)
        assert (east["calls"], east["calls_total"]) == ([], 0)
        insights = east["insights"]
        for key in ("calls", "needs", "objections", "next_actions", "competitors", "sentiment"):
            assert insights[key] == [], key
        assert insights["last_contact"] is None
        r = client.get(f"/api/customers/{customer_id}", headers=east_boss.headers)
        assert "SFA" not in r.text
        assert "見積書" not in r.text
        # Customer records stay for insight readers: reps are refused.
        assert client.get(f"/api/customers/{customer_id}", headers=west_rep.headers).status_code == 403
        assert client.get("/api/customers/by-external-id/import/nobody", headers=admin.headers).status_code == 404
