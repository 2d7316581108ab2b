"""Load test: 50 concurrent clients on the dashboard and call endpoints of a real ``insight serve`` (127.0.0.1 only),
with 10,000 calls (20 utterances each) and 1,000,000 transactions loaded. Prints p50/p95/p99 latency and errors per
endpoint, for two runs on the same server. Goal: p95 <= 100 ms, no errors.

    .venv/bin/python bench/load.py                          # SQLite, 50 clients, 30 s per run
    .venv/bin/python bench/load.py --clients 50 --seconds 60 --database-url postgresql+psycopg://postgres@127.0.0.1/x
    .venv/bin/python bench/load.py --data-dir /tmp/load     # keep the loaded data and reuse it next time

Clients are 40 reps (each sees their own 250 calls), 8 managers (their team's 5,000 calls, plus segments and customer
records) and 2 admins, each with an API token; every client picks a random request from its role's mix, sends it,
waits for the answer and repeats. The first run is people at a dashboard: each client pauses 0.5-1.5 s after an
answer before its next request (--think). The second is saturation: the same clients with no pause at all, so it
measures the most requests per second the machine serves and the queueing latency at that rate. Request rate limits
are off (INSIGHT_RATE_LIMIT_PER_MINUTE=0) so that the figures measure the service, not the limiter. The server runs
one process per core (--workers) and shares those cores with the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from insight import audit  # noqa: E402
from insight.auth import service as auth_service  # noqa: E402
from insight.db import make_engine, migrate, session_scope  # noqa: E402
from insight.segments.service import compute_segments  # noqa: E402
from models import Call, Customer, CustomerExternalId, Transaction, Utterance  # noqa: E402

REPS, MANAGERS, ADMINS, TEAMS = 40, 8, 2, 2


def load_data(url: str, *, calls: int, transactions: int, customers: int) -> dict[str, list[str]]:
    """Users with tokens, customers, transactions and processed calls. Returns tokens by role."""
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(7)
    tokens: dict[str, list[str]] = defaultdict(list)
    actor = audit.Actor(label="bench")
    rep_ids: list[int] = []
    with session_scope(engine) as s:
        for role, n in (("rep", REPS), ("manager", MANAGERS), ("admin", ADMINS)):
            for i in range(n):
                user = auth_service.create_user(
                    s, actor, email=f"{role}{i}@bench.example", role=role, team=f"team{i % TEAMS}", password=None
                )
                _, token = auth_service.create_token(s, actor, user, name="bench")
                tokens[role].append(token)
                if role == "rep":
                    assert user.id is not None
                    rep_ids.append(user.id)
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {"id": i + 1, "name": f"Customer {i}", "properties": {}, "created_at": now, "updated_at": now}
                for i in range(customers)
            ],
        )
        conn.execute(
            insert(CustomerExternalId),
            [{"customer_id": i + 1, "source": "shop", "external_id": f"C{i}"} for i in range(customers)],
        )
    batch = 50_000
    for start in range(0, transactions, batch):
        rows = [
            {
                "customer_id": rng.randrange(customers) + 1,
                "source": "shop",
                "external_id": f"T{i}",
                "occurred_at": now - timedelta(days=rng.randrange(720)),
                "amount": round(rng.uniform(5, 500), 2),
                "currency": "JPY",
                "order_id": f"O{i // 3}",
                "is_return": False,
                "imported_at": now,
            }
            for i in range(start, min(start + batch, transactions))
        ]
        with engine.begin() as conn:
            conn.execute(insert(Transaction), rows)
    for start in range(0, calls, 1000):
        with engine.begin() as conn:
            ids = range(start + 1, min(start + 1000, calls) + 1)
            conn.execute(
                insert(Call),
                [
                    {
                        "id": i,
                        "audio_sha256": f"{i:064x}",
                        "audio_bytes": 1_000_000,
                        "filename": f"call-{i}.m4a",
                        "media_format": "mov,mp4,m4a",
                        "codec": "aac",
                        "duration_s": 600.0 + i % 900,
                        "sample_rate": 16000,
                        "channels": 2,
                        "dual_mono": False,
                        "status": "done",
                        "progress": 1.0,
                        "language": "ja",
                        "owner_id": rep_ids[i % REPS],
                        "customer_id": rng.randrange(customers) + 1,
                        "customer_external_id": None,
                        "created_at": now - timedelta(minutes=i),
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(Utterance),
                [
                    {
                        "call_id": i,
                        "idx": k,
                        "start": k * 6.0,
                        "end": k * 6.0 + 5.0,
                        "channel": k % 2,
                        "speaker": f"S{k % 2 + 1}",
                        "language": "ja",
                        "text": f"本日はお時間をいただきありがとうございます。{k}番目の発言です。",
                        "text_redacted": f"本日はお時間をいただきありがとうございます。{k}番目の発言です。",
                        "words": [{"start": k * 6.0, "end": k * 6.0 + 0.5, "text": "本日", "probability": 0.9}],
                    }
                    for i in ids
                    for k in range(20)
                ],
            )
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    compute_segments(engine, trigger="bench")
    print(
        f"loaded {calls:,} calls, {calls * 20:,} utterances, {transactions:,} transactions, {customers:,} customers "
        f"in {load_s:.0f} s; segments computed in {time.perf_counter() - t1:.1f} s"
    )
    engine.dispose()
    return tokens


def requests_for(role: str, calls: int, customers: int, rng: random.Random, rep_index: int) -> tuple[str, str]:
    """(endpoint label, path) for one request of a client with ``role``."""
    if role == "rep":
        own = rep_index + REPS * rng.randrange(1, calls // REPS)  # the loader gives call i to rep i % REPS
        choice = rng.random()
        if choice < 0.25:
            return "GET /", "/"
        if choice < 0.45:
            return "GET /api/calls", f"/api/calls?limit=50&offset={rng.randrange(0, 200, 50)}"
        if choice < 0.65:
            return "GET /api/calls/{id}", f"/api/calls/{own}"
        if choice < 0.85:
            return "GET /api/calls/{id}/transcript", f"/api/calls/{own}/transcript"
        return "GET /calls/{id}", f"/calls/{own}"
    choice = rng.random()
    call = rng.randrange(calls) + 1
    if choice < 0.2:
        return "GET /", "/"
    if choice < 0.4:
        return "GET /api/calls", f"/api/calls?limit=50&offset={rng.randrange(0, 1000, 50)}"
    if choice < 0.55:
        return "GET /api/calls/{id}", f"/api/calls/{call}"
    if choice < 0.7:
        return "GET /api/segments", "/api/segments"
    if choice < 0.85:
        return "GET /api/customers/{id}", f"/api/customers/{rng.randrange(customers) + 1}"
    return "GET /api/calls/{id}/transcript", f"/api/calls/{call}/transcript"


async def client_loop(
    client: httpx.AsyncClient,
    role: str,
    index: int,
    deadline: float,
    calls: int,
    customers: int,
    results: dict[str, list[float]],
    errors: dict[str, int],
    think_s: tuple[float, float],
) -> None:
    rng = random.Random(index)
    if think_s[1] > 0:  # people do not all click in the same millisecond
        await asyncio.sleep(rng.uniform(0, think_s[1]))
    while time.perf_counter() < deadline:
        label, path = requests_for(role, calls, customers, rng, index % REPS)
        started = time.perf_counter()
        try:
            r = await client.get(path)
            ok = r.status_code == 200 or (role != "rep" and r.status_code == 404 and "{id}" in label)
        except httpx.HTTPError:
            ok = False
        elapsed = time.perf_counter() - started
        results[label].append(elapsed)
        if not ok:
            errors[label] += 1
        if think_s[1] > 0:
            await asyncio.sleep(rng.uniform(*think_s))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_load(
    base: str,
    tokens: dict[str, list[str]],
    clients: int,
    seconds: float,
    calls: int,
    customers: int,
    think_s: tuple[float, float] = (0.0, 0.0),
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    roster = (
        [("rep", t) for t in tokens["rep"]]
        + [("manager", t) for t in tokens["manager"]]
        + [("admin", t) for t in tokens["admin"]]
    )
    # Clients are made before the clock starts: building one (its TLS context) blocks the generator's event loop for
    # tens of milliseconds, which would otherwise be counted in the latency of the requests already in flight.
    clients_ = [
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {roster[i % len(roster)][1]}"}, timeout=30)
        for i in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds
    try:
        await asyncio.gather(
            *(
                client_loop(
                    clients_[i],
                    roster[i % len(roster)][0],
                    i,
                    deadline,
                    calls,
                    customers,
                    results,
                    errors,
                    think_s,
                )
                for i in range(clients)
            )
        )
    finally:
        for c in clients_:
            await c.aclose()
    return results, errors, time.perf_counter() - started


def report(title: str, results: dict[str, list[float]], errors: dict[str, int], wall: float) -> None:
    total = [x for v in results.values() for x in v]
    print(
        f"\n{title}: {len(total):,} requests in {wall:.0f} s ({len(total) / wall:.0f}/s), {sum(errors.values())} errors"
    )
    print(f"{'endpoint':34} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label in sorted(results):
        v = results[label]
        print(
            f"{label:34} {len(v):>9,} {pct(v, 0.5):>8.1f} {pct(v, 0.95):>8.1f} {pct(v, 0.99):>8.1f} {errors[label]:>7}"
        )
    print(
        f"{'all':34} {len(total):>9,} {pct(total, 0.5):>8.1f} {pct(total, 0.95):>8.1f} {pct(total, 0.99):>8.1f} "
        f"{sum(errors.values()):>7}  (mean {statistics.fmean(total) * 1000:.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: one per core)"
    )
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.5, 1.5),
        metavar=("MIN_S", "MAX_S"),
        help="pause of each client between requests in the 'people' run (default 0.5 1.5 s, uniform)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the loaded data here and reuse it on the next run (SQLite only; default: a temporary directory)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="insight-load-") as scratch:
        tmp = str(args.data_dir or scratch)
        Path(tmp).mkdir(parents=True, exist_ok=True)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'insight.db'}"
        saved = Path(tmp) / "tokens.json"
        if args.data_dir and not args.database_url and saved.exists():
            tokens = json.loads(saved.read_text())
            print(f"reusing the data loaded in {tmp}")
        else:
            tokens = load_data(url, calls=args.calls, transactions=args.transactions, customers=args.customers)
            saved.write_text(json.dumps(tokens))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHT_")}
        env.update(
            {
                "INSIGHT_DATA_DIR": tmp,
                "INSIGHT_DATABASE_URL": url,
                "INSIGHT_RATE_LIMIT_PER_MINUTE": "0",
                "INSIGHT_LOG_LEVEL": "WARNING",
                "INSIGHT_SEGMENTS_INTERVAL_S": "0",
            }
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--no-worker", "--port", str(port)]
            + ["--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "serve.log", "wb"),
        )
        base = f"http://127.0.0.1:{port}"
        runs = []
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            # Warm-up, not counted: every client's token once through every server process (credential caches,
            # compiled templates and statements, pooled connections).
            asyncio.run(run_load(base, tokens, args.clients, 5.0, args.calls, args.customers))
            # People: each client reads the answer and clicks again after a pause, like someone at a dashboard.
            think = (float(args.think[0]), float(args.think[1]))
            people = asyncio.run(run_load(base, tokens, args.clients, args.seconds, args.calls, args.customers, think))
            runs.append((f"{args.clients} clients pausing {think[0]:g}-{think[1]:g} s between requests", people))
            # Saturation: the same clients with no pause at all (closed loop): the most the box serves.
            flat = asyncio.run(run_load(base, tokens, args.clients, args.seconds, args.calls, args.customers))
            runs.append((f"{args.clients} clients with no pause (saturation)", flat))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)

    where = url.split(":")[0]
    print(f"\n{where}, {args.workers} server process(es), load generator on the same {os.cpu_count()} cores")
    for title, (results, errors, wall) in runs:
        report(title, results, errors, wall)
    print("\ngoal: p95 <= 100 ms, 0 errors")
    for title, (results, errors, _) in runs:
        total = [x for v in results.values() for x in v]
        p95 = pct(total, 0.95)
        met = "met" if p95 <= 100 and not sum(errors.values()) else "not met"
        print(f"  {title}: p95 {p95:.1f} ms, {sum(errors.values())} errors -> {met}")


if __name__ == "__main__":
    main()
