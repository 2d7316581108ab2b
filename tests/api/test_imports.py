"""Imports through the real app: a re-upload under another name adds nothing and says so, Japanese exports need no
options, the encoding can be given, and a missing column names the mapping to send (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.transactions import JA_HEADER, JA_ROWS, write_ja


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with TestClient(app, headers=auth.admin(runtime).headers) as c:
        yield c


def post_file(client: TestClient, path: Path, name: str | None = None, **data: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return client.post("/api/imports/transactions", files={"file": (name or path.name, fh)}, data=data)


def test_reupload_under_another_name_adds_nothing(client: TestClient, tmp_path: Path) -> None:
    sjis = write_ja(tmp_path / "売上明細.csv", JA_HEADER, JA_ROWS, encoding="cp932")
    first = post_file(client, sjis)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["encoding"], body["source"], body["columns"]["customer"]) == ("cp932", "import", "顧客番号")
    assert (body["inserted"], body["customers_created"], body["return_rows"]) == (4, 2, 1)
    again = post_file(client, sjis, name="売上明細 (1).csv")
    assert again.status_code == 201, again.text
    body = again.json()
    assert (body["inserted"], body["already_present"], body["customers_created"]) == (0, 4, 0)
    assert (body["already_present_from"], body["already_present_to"]) == (
        "2026-11-02T10:15:00Z",
        "2026-11-16T00:00:00Z",
    )


def test_encoding_field_and_missing_columns_say_what_to_send(client: TestClient, tmp_path: Path) -> None:
    latin = tmp_path / "ventes.csv"
    latin.write_bytes("customer,date,amount\nC1,2026-11-02,12.5\nCé,2026-11-03,4\n".encode("latin-1"))
    refused = post_file(client, latin)
    assert refused.status_code == 422
    assert "encoding" in refused.json()["error"]["hint"]
    accepted = post_file(client, latin, encoding="latin-1")
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["inserted"], accepted.json()["encoding"]) == (2, "latin-1")
    unknown = post_file(client, latin, encoding="klingon")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_encoding"

    unusual = write_ja(tmp_path / "members.csv", ["会員No", *JA_HEADER[1:]], JA_ROWS, encoding="cp932")
    missing = post_file(client, unusual)
    assert missing.status_code == 422
    error = missing.json()["error"]
    assert error["code"] == "missing_columns"
    assert "no column for customer" in error["message"]
    assert "customer=COLUMN" in error["hint"]
    assert "mapping" in error["hint"]
    assert missing.json()["report"]["missing_columns"] == ["no column for customer"]
    mapped = post_file(client, unusual, mapping="customer=会員No")
    assert mapped.status_code == 201, mapped.text
    assert mapped.json()["inserted"] == 4
