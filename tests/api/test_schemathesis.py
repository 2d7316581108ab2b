"""Property-based requests from the app's own OpenAPI document, as an admin (every scope): no 5xx over a bounded
run, and every 4xx carries the error body {"error": {code, message, hint}}.

Bounded by ``INSIGHT_SCHEMATHESIS_EXAMPLES`` examples per operation (default 40: 36 operations, well under two
minutes on 2 cores). The totals are printed at the end of the module (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import update
from sqlmodel import col

from api.main import create_app
from insight.db import session_scope
from insight.runtime import Runtime
from models import User
from tests.conftest import make_settings
from tests.fixtures import auth

EXAMPLES = int(os.environ.get("INSIGHT_SCHEMATHESIS_EXAMPLES", "40"))
STATS: Counter[str] = Counter()
FIVE_XX: list[str] = []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Runtime, auth.Account]]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    runtime = Runtime.build(make_settings(tmp, f"sqlite:///{tmp / 'insight.db'}", rate_limit_per_minute=0))
    account = auth.admin(runtime)
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with TestClient(app):  # runs the lifespan (app.state.runtime)
        yield app, runtime, account
    runtime.close()


def keep_admin(runtime: Runtime, account: auth.Account) -> None:
    # Generated PATCH /api/admin/users/{id} bodies may demote or deactivate the admin itself; undo that so the
    # run keeps exploring with every scope.
    with session_scope(runtime.engine) as s:
        s.execute(update(User).where(col(User.id) == account.user_id).values(role="admin", active=True))


def check(case: schemathesis.Case, runtime: Runtime, account: auth.Account) -> None:
    keep_admin(runtime, account)
    response = case.call(headers={"Authorization": f"Bearer {account.token}"})
    status = response.status_code
    STATS["requests"] += 1
    STATS[f"{status // 100}xx"] += 1
    label = f"{case.method} {case.path} -> {status}"
    if status >= 500:
        FIVE_XX.append(f"{label}: {response.text[:300]}")
    assert status < 500, f"{label}: {response.text[:500]}"
    if 400 <= status < 500:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        assert isinstance(error, dict), f"{label}: {response.text[:300]}"
        assert error.get("code"), label
        assert error.get("message"), label
        assert error.get("hint"), label


def test_no_server_errors(served: tuple[FastAPI, Runtime, auth.Account]) -> None:
    app, runtime, account = served
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            check(case, runtime, account)

        run()
    STATS["operations"] = len(operations)


def test_report() -> None:
    """Runs after the generated cases (same module): prints the totals and checks the run was not empty."""
    print(f"\nschemathesis: {dict(STATS)}; 5xx: {len(FIVE_XX)}")  # noqa: T201 - the figure this test exists for
    assert STATS["requests"] >= 100
    assert FIVE_XX == []
