"""GET /events on a large plan: 10,000 events x 20 field values on PostgreSQL.

    uv run python bench/bench_events.py [--events 10000] [--seconds 8] [--concurrency 32] [--workers 2]

Creates a temporary PostgreSQL database (dropped at the end), fills it with SQL bulk inserts (not
through the API), starts tripl with uvicorn on a loopback port and drives `GET /events` with
concurrent httpx clients using an API key. Prints requests/s, p50/p95 latency and the SQL
statements one request runs (with EXPLAIN ANALYZE timings of the page query).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from tripl.core.db import utcnow
from tripl.core.security import hash_password
from tripl.models import Base
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue, EventStatus, EventTag
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.meta_fields.models import MetaFieldDefinition, MetaFieldType
from tripl.plan.projects.models import Project
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext
from tripl.workspace.api_keys.models import ApiKeyScope
from tripl.workspace.api_keys.service import create_key
from tripl.workspace.users.models import User, UserRole

PG_ADMIN_URL = os.environ.get(
    "TRIPL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TYPES = 20
FIELDS_PER_TYPE = 20
CHUNK = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database() -> str:
    name = f"tripl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def fill(url: str, n_events: int) -> tuple[str, str]:
    """Insert the plan in bulk; returns (read API key, id of one event type)."""
    rnd = random.Random(7)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    now = utcnow()
    user_id, project_id, branch_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "email": "bench@example.com",
                    "name": "bench",
                    "password_hash": hash_password("benchmark password"),
                    "role": UserRole.owner,
                }
            ],
        )
        conn.execute(
            insert(Project), [{"id": project_id, "name": "Bench", "slug": "bench", "description": ""}]
        )
        conn.execute(
            insert(PlanBranch),
            [
                {
                    "id": branch_id,
                    "project_id": project_id,
                    "name": "main",
                    "kind": BranchKind.main,
                    "status": BranchStatus.merged,
                }
            ],
        )
        scoped = {"project_id": project_id, "branch_id": branch_id}
        types = [
            {"id": uuid.uuid4(), "name": f"type_{t}", "display_name": f"Type {t}", "order": t, **scoped}
            for t in range(TYPES)
        ]
        conn.execute(insert(EventType), types)
        fields: dict[uuid.UUID, list[uuid.UUID]] = {}
        field_rows = []
        for t in types:
            ids = [uuid.uuid4() for _ in range(FIELDS_PER_TYPE)]
            fields[t["id"]] = ids
            field_rows += [
                {
                    "id": fid,
                    "event_type_id": t["id"],
                    "name": f"field_{i}",
                    "display_name": f"F{i}",
                    "field_type": FieldType.string,
                    "is_required": i == 0,
                    "order": i,
                }
                for i, fid in enumerate(ids)
            ]
        conn.execute(insert(FieldDefinition), field_rows)
        metas = [
            {
                "id": uuid.uuid4(),
                "name": f"meta_{i}",
                "display_name": f"Meta {i}",
                "field_type": MetaFieldType.string,
                "order": i,
                **scoped,
            }
            for i in range(3)
        ]
        conn.execute(insert(MetaFieldDefinition), metas)
        variable_id = uuid.uuid4()
        conn.execute(
            insert(Variable),
            [{"id": variable_id, "name": "screen", "variable_type": VariableType.string, **scoped}],
        )

        statuses = list(EventStatus)
        events, values, tags, meta_values, contexts = [], [], [], [], []
        for n in range(n_events):
            t = types[n % TYPES]
            event_id = uuid.uuid4()
            events.append(
                {
                    "id": event_id,
                    "event_type_id": t["id"],
                    "name": f"{t['name']}_event_{n}",
                    "source_name": f"{t['name']}_event_{n}",
                    "description": f"Generated event number {n}",
                    "order": n,
                    "status": statuses[n % len(statuses)],
                    "reviewed": n % 3 == 0,
                    "metric_breakdown_columns": [],
                    "created_at": now,
                    "updated_at": now,
                    "last_seen_at": now - timedelta(days=rnd.randint(0, 60)) if n % 4 else None,
                    **scoped,
                }
            )
            values += [
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "field_definition_id": fid,
                    "value": f"value_{n}_{i}" if i else "${screen}",
                    "authored": True,
                }
                for i, fid in enumerate(fields[t["id"]])
            ]
            tags += [
                {"id": uuid.uuid4(), "event_id": event_id, "name": f"tag_{k}"} for k in {n % 50, (n * 7) % 50}
            ]
            meta_values.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "meta_field_definition_id": metas[n % 3]["id"],
                    "value": f"JIRA-{n}",
                }
            )
            contexts.append(
                {
                    "id": uuid.uuid4(),
                    "variable_id": variable_id,
                    "event_id": event_id,
                    "field_definition_id": fields[t["id"]][0],
                    "source_column": "screen",
                    "value_kind": ValueKind.low,
                    "observed_count": 3,
                    "values": ["home", "cart", "pay"],
                    "updated_at": now,
                }
            )
        for model, rows in (
            (Event, events),
            (EventFieldValue, values),
            (EventTag, tags),
            (EventMetaValue, meta_values),
            (VariableValueContext, contexts),
        ):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[start : start + CHUNK])
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))

    from sqlalchemy.orm import Session

    with Session(engine) as db, db.begin():
        user = db.get(User, user_id)
        assert user is not None
        _, token = create_key(
            db, user, name="bench", scope=ApiKeyScope.read, expires_in_days=None, project_slug=None
        )
    engine.dispose()
    return token, str(types[3]["id"])


def start_server(url: str, port: int, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRIPL_DATABASE_URL": url,
        "TRIPL_DATA_DIR": data_dir,
        "TRIPL_LOG_LEVEL": "WARNING",
        "TRIPL_SECRET_KEY": "bench-secret",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tripl.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("tripl did not start")


async def drive(
    base: str,
    token: str,
    params: dict[str, Any],
    seconds: float,
    concurrency: int,
    check: Callable[[dict[str, Any]], None],
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    headers = {"authorization": f"Bearer {token}"}
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.get("/api/v1/projects/bench/events", params=params)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
                check(response.json())
                latencies.append(elapsed)

    # Warm up connections and caches before measuring.
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as warm:
        for _ in range(5):
            await warm.get("/api/v1/projects/bench/events", params=params)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def statements_of_one_request(url: str, token: str, params: dict[str, Any]) -> list[tuple[str, float]]:
    """The SQL one list request runs, each with its EXPLAIN ANALYZE execution time (ms)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event as sa_event

    from tripl.app import create_app
    from tripl.config import Settings

    app = create_app(
        Settings(
            database_url=url,
            data_dir=tempfile.mkdtemp(prefix="tripl-bench-"),  # type: ignore[arg-type]
            secret_key="bench-secret",
        )
    )
    engine = app.state.tripl.db.engine
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with TestClient(app, headers={"authorization": f"Bearer {token}"}) as client:
        sa_event.listen(engine, "before_cursor_execute", record)
        client.get("/api/v1/projects/bench/events", params=params)
        sa_event.remove(engine, "before_cursor_execute", record)
    timings = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in seen:
            cur = raw.cursor()
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = cur.fetchone()[0][0]
            timings.append((" ".join(statement.split())[:70], float(plan["Execution Time"])))
            cur.close()
    app.state.tripl.close()
    return timings


def report(name: str, rps: float, latencies: list[float], target_ms: float | None) -> None:
    q = statistics.quantiles(latencies, n=100)
    verdict = ""
    if target_ms is not None:
        met = "met" if q[94] * 1000 <= target_ms else "MISSED"
        verdict = f"  (target p95 <= {target_ms:.0f} ms: {met})"
    print(
        f"{name:44s} {rps:7.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
        f"n={len(latencies)}{verdict}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()

    url = create_database()
    proc = None
    try:
        started = time.perf_counter()
        token, type_id = fill(url, args.events)
        print(
            f"filled {args.events} events x {FIELDS_PER_TYPE} field values ({TYPES} types, 2 tags, "
            f"1 meta value and 1 variable context per event) in {time.perf_counter() - started:.1f} s"
        )
        scenarios: list[tuple[str, dict[str, Any], float | None]] = [
            ("limit 50", {"limit": 50}, 50.0),
            ("limit 200", {"limit": 200}, None),
            (
                "limit 50, status+search",
                {"limit": 50, "status": ["live", "draft"], "search": "event_1"},
                50.0,
            ),
            (
                "limit 200, status+search",
                {"limit": 200, "status": ["live", "draft"], "search": "event_1"},
                None,
            ),
            ("limit 50, type+tag", {"limit": 50, "event_type_id": type_id, "tag": "tag_3"}, 50.0),
            ("limit 50, field_value", {"limit": 50, "field_value": "value_99"}, 50.0),
            (
                "limit 50, silent_since_days=30, offset 2000",
                {"limit": 50, "silent_since_days": 30, "offset": 2000},
                50.0,
            ),
        ]
        print("\nstatements of one request (EXPLAIN ANALYZE execution time):")
        for name, params, _ in scenarios[:1] + scenarios[5:6]:
            print(f"  {name}:")
            for statement, ms in statements_of_one_request(url, token, params):
                print(f"    {ms:7.2f} ms  {statement}")

        port = free_port()
        proc = start_server(url, port, args.workers, tempfile.mkdtemp(prefix="tripl-bench-"))
        base = f"http://127.0.0.1:{port}"
        print(
            f"\n{os.cpu_count()} cores, uvicorn workers={args.workers}, {args.concurrency} concurrent "
            f"clients, {args.seconds:.0f} s per scenario, metadata DB: PostgreSQL"
        )

        def page_check(limit: int) -> Callable[[dict[str, Any]], None]:
            def check(body: dict[str, Any]) -> None:
                assert len(body["items"]) <= limit

            return check

        for name, params, target in scenarios:
            rps, lat = await drive(
                base, token, params, args.seconds, args.concurrency, page_check(int(params["limit"]))
            )
            report(f"GET /events {name}", rps, lat, target)
        rps, lat = await drive(base, token, {"limit": 50}, args.seconds, 1, page_check(50))
        report("GET /events limit 50, 1 client (no queueing)", rps, lat, 50.0)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        if args.keep:
            print("database kept:", url)
        else:
            drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
