"""Integers no database column holds are refused as bad input (422), on every route, through a real server; an
unexpected error is a 500 that carries its request id and leaves the connection open (SQLite and PostgreSQL)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import APIRouter

from api.main import create_app
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.server import serving

HUGE = "99999999999999999999"  # > 2**64
PATH_VALUES = {"key": "champions"}  # non-integer path parameters get a valid value


def _schema(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        resolved: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved
    return schema


def _is_integer(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "integer":
        return True
    return any(s.get("type") == "integer" for s in schema.get("anyOf", []))


def requests_with_huge_integers(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(what, method, url, httpx kwargs) for every integer path/query parameter and top-level JSON body field."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            in_path = {p["name"]: p for p in params if p["in"] == "path"}

            def url_with(huge: str | None, path: str = path, in_path: dict[str, Any] = in_path) -> str:
                url = path
                for name in in_path:
                    url = url.replace("{" + name + "}", HUGE if name == huge else PATH_VALUES.get(name, "1"))
                return url

            for p in params:
                if not _is_integer(p.get("schema", {})):
                    continue
                what = f"{method.upper()} {path} {p['in']}.{p['name']}"
                if p["in"] == "path":
                    out.append((what, method.upper(), url_with(p["name"]), {}))
                elif p["in"] == "query":
                    out.append((what, method.upper(), url_with(None), {"params": {p["name"]: HUGE}}))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            schema = _schema(doc, body["schema"])
            for name, prop in schema.get("properties", {}).items():
                if _is_integer(_schema(doc, prop)):
                    # Raw JSON: the number must reach the server as written, not as a float.
                    content = '{"' + name + '": ' + HUGE + "}"
                    out.append(
                        (
                            f"{method.upper()} {path} body.{name}",
                            method.upper(),
                            url_with(None),
                            {"content": content, "headers": {"Content-Type": "application/json"}},
                        )
                    )
    return out


def test_huge_integers_are_refused_on_every_route(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    admin = auth.admin(runtime)
    doc = app.openapi()
    cases = requests_with_huge_integers(doc)
    seen = {what for what, *_ in cases}
    # The ones found by hand first: ids in paths, offsets and run ids in queries, the audit offset.
    for expected in (
        "GET /api/calls query.offset",
        "GET /api/calls/{call_id} path.call_id",
        "DELETE /api/auth/tokens/{token_id} path.token_id",
        "GET /api/customers/{customer_id} path.customer_id",
        "GET /api/segments query.run_id",
        "GET /api/admin/audit query.offset",
        "PUT /api/admin/calls/{call_id}/owner body.owner_id",
    ):
        assert expected in seen, expected
    assert len(cases) >= 30, len(cases)
    with serving(app) as base, httpx.Client(base_url=base, headers=admin.headers, timeout=30) as client:
        for what, method, url, kwargs in cases:
            r = client.request(method, url, **kwargs)
            assert r.status_code < 500, (what, r.status_code, r.text)
            where = what.split(" ")[-1]
            if where.startswith(("path.", "query.")):
                # Path and query parameters: refused before anything runs, naming the parameter.
                assert r.status_code == 422, (what, r.status_code, r.text)
                error = r.json()["error"]
                assert error["code"] == "invalid_request", (what, error)
                assert where in error["message"], (what, error)
                assert "9223372036854775807" in error["message"], (what, error)
                assert error["hint"], (what, error)
        # In range, the same routes still work.
        assert client.get("/api/calls", params={"offset": str(2**63 - 1)}).status_code == 200
        assert client.get(f"/api/calls/{2**31 - 1}").status_code == 404
        # Ids are 32-bit columns on PostgreSQL: beyond them, still bad input rather than a server error.
        beyond = client.get(f"/api/calls/{2**63 - 1}")
        assert beyond.status_code in (404, 422), beyond.text
        assert beyond.json()["error"]["hint"]
        assert client.get("/api/calls/-1").status_code == 404
        assert client.get("/api/calls/abc").status_code == 422


def test_body_numbers_beyond_64_bits_are_bad_input(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    admin = auth.admin(runtime)
    rep = auth.make_user(runtime, "rep@example.com")
    with serving(app) as base, httpx.Client(base_url=base, headers=admin.headers, timeout=30) as client:
        r = client.request(
            "PATCH",
            f"/api/admin/users/{rep.user_id}",
            content='{"name": "x", "active": true, "team": "' + HUGE + '"}',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 200, r.text  # a string of digits is just a team name
        r = client.put(
            "/api/admin/calls/1/owner",
            content='{"owner_id": ' + HUGE + "}",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code in (404, 422), r.text


@pytest.fixture
def failing_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    """The real app plus a route that fails unexpectedly (a bug's stand-in)."""
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    broken = APIRouter()

    @broken.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    @broken.get("/test-only/boom-async")
    async def boom_async() -> None:
        raise KeyError("another unexpected failure")

    app.include_router(broken)
    return app


def test_unexpected_error_carries_its_request_id_and_keeps_the_connection(failing_app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with serving(failing_app) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            for url in ("/test-only/boom", "/test-only/boom-async"):
                conn.request("GET", url)
                sock = conn.sock
                r = conn.getresponse()
                body = json.loads(r.read())
                assert r.status == 500
                rid = r.getheader("x-request-id")
                assert rid, r.getheaders()
                assert body["error"]["code"] == "internal_error"
                assert body["error"]["hint"] == f"Report request id {rid}."
                assert (r.getheader("connection") or "").lower() != "close"
                # The same connection serves the next request: the server did not drop it after the error.
                conn.request("GET", "/healthz")
                ok = conn.getresponse()
                ok.read()
                assert ok.status == 200
                assert conn.sock is sock
            # A request id given by the client is the one to report.
            conn.request("GET", "/test-only/boom", headers={"X-Request-ID": "trace-42"})
            r = conn.getresponse()
            assert json.loads(r.read())["error"]["hint"] == "Report request id trace-42."
            assert r.getheader("x-request-id") == "trace-42"
        finally:
            conn.close()
