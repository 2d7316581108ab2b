"""Import, segments and the customer record through the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from insight.db import session_scope
from insight.repositories import customers as customers_repo
from insight.runtime import Runtime
from tests.fixtures import auth, bad_audio
from tests.fixtures.transactions import MAPPING, write_small

FORM = {"mapping": ",".join(f"{k}={v}" for k, v in MAPPING.items()), "source": "shop", "return_prefix": "C"}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with TestClient(app, headers=auth.admin(runtime).headers) as c:
        yield c


def post_file(client: TestClient, path: Path, **data: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return client.post("/api/imports/transactions", files={"file": (path.name, fh)}, data=data)


def test_import_segments_and_customer_record(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    assert client.get("/api/segments").status_code == 404  # nothing computed yet
    # A call uploaded before its customer exists keeps the external id and is linked by the import.
    wav = bad_audio.good_wav(tmp_path / "call.wav", seconds=1.0, channels=1)
    with wav.open("rb") as fh:
        early = client.post("/api/calls", files={"file": ("call.wav", fh)}, data={"customer_external_id": "A"})
    assert early.status_code == 201, early.text

    r = post_file(client, write_small(tmp_path / "small.csv"), **FORM)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["inserted"], report["rows_no_customer"], report["return_rows"]) == (12, 1, 2)
    assert report["calls_linked"] >= 1
    again = post_file(client, tmp_path / "small.csv", **FORM).json()
    assert (again["inserted"], again["already_present"]) == (0, 12)

    with session_scope(runtime.engine) as s:
        alice = customers_repo.get_by_external_id(s, source="shop", external_id="A")
        assert alice is not None
        alice_id = alice.id
        customers_repo.upsert_deal(
            s, source="crm", external_id="D-1", values={"customer_id": alice_id, "outcome": "won", "amount": 5000.0}
        )
    # A call uploaded now is linked at upload, to the deal and through it to the customer.
    wav2 = bad_audio.good_wav(tmp_path / "call2.wav", seconds=1.5, channels=1)
    with wav2.open("rb") as fh:
        late = client.post("/api/calls", files={"file": ("call2.wav", fh)}, data={"deal_external_id": "D-1"})
    assert late.status_code == 201, late.text

    run = client.post("/api/segments/compute", json={"as_of": "2024-01-31"})
    assert run.status_code == 201, run.text
    assert run.json()["customers"] == 5
    # The date given, and the customer who only ever returned something (F), left out with their net amount.
    assert run.json()["as_of_date"] == "2024-01-31"
    assert (run.json()["left_out_customers"], run.json()["left_out_revenue"]) == (1, -20.0)

    segments = client.get("/api/segments").json()
    by_key = {s["key"]: s for s in segments["data"]}
    assert segments["customers"] == 5
    assert by_key["champions"]["customers"] == 1
    assert by_key["champions"]["label_ja"] == "優良顧客"
    assert sum(s["customers"] for s in segments["data"]) == 5

    deciles = client.get("/api/segments/deciles").json()["data"]
    assert [d["customers"] for d in deciles] == [1, 1, 1, 1, 1]
    assert deciles[0]["revenue"] == 2000.0

    page = client.get("/api/segments/champions/customers", params={"limit": 1}).json()
    assert page["count"] == 1
    assert page["data"][0]["id"] == alice_id
    assert client.get("/api/segments/nope/customers").status_code == 404

    record = client.get(f"/api/customers/{alice_id}").json()
    assert record["profile"]["name"] == "Alice"
    assert record["profile"]["external_ids"] == [{"source": "shop", "external_id": "A"}]
    rfm = record["rfm"]
    # Alice last bought on 01-30: one day before the as-of date.
    assert (rfm["recency_days"], rfm["frequency"], rfm["monetary"], rfm["rfm_cell"]) == (1, 3, 650.0, "454")
    assert rfm["segment"]["key"] == "champions"
    assert (rfm["decile"], rfm["ltv"]) == (2, 650.0)
    assert record["transactions"]["transactions"] == 5
    assert record["transactions"]["recent"][0]["amount"] == 999.0  # newest first
    assert [d["external_id"] for d in record["deals"]] == ["D-1"]
    assert sorted(c["id"] for c in record["calls"]) == sorted([early.json()["id"], late.json()["id"]])
    assert record["calls_total"] == 2
    assert [h["segment_key"] for h in record["segment_history"]] == ["champions"]
    assert client.get("/api/customers/999999").status_code == 404

    # Editing a definition changes the next run; movement compares the two newest runs.
    upd = client.put("/api/segments/definitions/champions", json={"m_min": 5})
    assert upd.status_code == 200, upd.text
    try:
        assert client.put("/api/segments/definitions/champions", json={"r_min": 5, "r_max": 4}).status_code == 422
        client.post("/api/segments/compute", json={"as_of": "2024-01-31"})
        moves = client.get("/api/segments/movement").json()["data"]
        assert {"from_segment": "champions", "to_segment": "loyal", "customers": 1} in moves
    finally:
        client.put("/api/segments/definitions/champions", json={"m_min": 4})
    assert len(client.get("/api/segments/runs").json()) == 2

    # Erasing a customer takes them out of the segment totals at once (the totals are cached per run).
    before = client.get("/api/segments").json()
    assert before["customers"] == 5
    erased = client.delete(f"/api/admin/customers/{alice_id}")
    assert erased.status_code == 200, erased.text
    after = client.get("/api/segments").json()
    assert after["run"]["id"] == before["run"]["id"]
    assert after["customers"] == 4
    assert after["revenue"] == pytest.approx(before["revenue"] - 650.0)


def test_bad_file_through_the_api_reports_rows_and_imports_nothing(client: TestClient, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,customer,date,order,amount,name\n1,A,2024-01-01,O1,x,Al\n2,A,not a date,O2,3,Al\n", "utf-8")
    r = post_file(client, bad, **FORM)
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "invalid_import"
    assert [(e["row"], e["column"]) for e in body["report"]["errors"]] == [(1, "amount"), (2, "date")]
    assert body["report"]["committed"] is False
    assert post_file(client, bad, mapping="{not json").status_code == 422
    assert post_file(client, bad, preset="nope").json()["error"]["code"] == "unknown_preset"
    assert client.get("/api/segments/deciles").status_code == 404
