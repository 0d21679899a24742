"""Series reads (the metrics API) over what a real collection stored.

    uv run python bench/bench_series_reads.py [--rows 2000000] [--days 30] [--repeat 20]
                                              [--metadata sqlite|postgres]

Builds the collection bench's DuckDB `events` table (30 events, 6 types, hourly over `--days`
days, platform and app-version columns), runs a catalog and a replay with a platform breakdown
and app versions through the job runner, then calls each series read of the metrics API in
process (FastAPI's TestClient, signed in as an owner) `--repeat` times over the whole window and
prints the median and the slowest call in ms, with the size of the answer.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bench_collection import (
    METADATA_URL_ENV,
    PG_ADMIN_URL,
    bench_context,
    build_duckdb,
    create_postgres_database,
    drop_postgres,
    job_outcome,
    make_scan,
    new_job,
    window,
)
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tripl.app import create_app
from tripl.models import Base
from tripl.observe.scans.jobs import run_job
from tripl.observe.scans.models import ScanConfig, ScanJobKind
from tripl.observe.warehouse.base import DBType
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project

ORIGIN = "http://testserver"


def collect(ctx: Any, source: dict[str, Any], days: int) -> tuple[str, uuid.UUID]:
    """A scan with breakdowns, its catalog and a replay of the whole window; the project's slug."""
    start, end = window(days)
    config_id = make_scan(ctx, source, breakdowns=True, label="reads")
    for kind, time_from, time_to in ((ScanJobKind.catalog, None, None), (ScanJobKind.replay, start, end)):
        job = new_job(ctx, config_id, kind, time_from, time_to)
        started = time.perf_counter()
        run_job(ctx, job)
        seconds = time.perf_counter() - started
        status, error, summary = job_outcome(ctx, job)
        if status != "completed":
            raise SystemExit(f"the {kind.value} job {status}: {error}")
        stored = sum(summary.get(key, 0) for key in ("metric_rows", "breakdown_rows", "version_rows"))
        print(f"{kind.value}: {seconds:.2f} s" + (f", {stored:,} points" if stored else ""))
    with ctx.db.sessions() as db:
        config = db.get(ScanConfig, config_id)
        assert config is not None
        project = db.get(Project, config.project_id)
        assert project is not None
        return project.slug, config_id


def timed(call: Callable[[], httpx.Response], repeat: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:300]}")
        size = len(response.content)
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--metadata", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-admin-url", default=os.environ.get("TRIPL_TEST_PG_ADMIN_URL", PG_ADMIN_URL))
    args = parser.parse_args()
    metadata_db = None
    if args.metadata == "postgres":
        metadata_db = create_postgres_database(args.pg_admin_url, "tripl_bench_meta")
        os.environ[METADATA_URL_ENV] = (
            make_url(args.pg_admin_url).set(database=metadata_db).render_as_string(hide_password=False)
        )
    try:
        with tempfile.TemporaryDirectory(prefix="tripl-bench-") as tmp:
            run(Path(tmp), args)
    finally:
        if metadata_db is not None:
            drop_postgres(args.pg_admin_url, metadata_db)


def run(data_dir: Path, args: argparse.Namespace) -> None:
    ctx = bench_context(data_dir)
    Base.metadata.create_all(ctx.db.engine)
    start, end = window(args.days)
    build_duckdb(data_dir / "warehouses" / "bench.duckdb", args.rows, start, end)
    print(f"series reads: {args.rows:,} warehouse rows, {args.days} days hourly, {args.metadata} metadata")
    source = {"db_type": DBType.duckdb, "host": "localhost", "database_name": "bench.duckdb"}
    slug, scan_id = collect(ctx, source, args.days)
    with ctx.db.sessions() as db:
        config = db.get(ScanConfig, scan_id)
        assert config is not None
        events = db.execute(
            select(Event.id, Event.event_type_id)
            .where(Event.project_id == config.project_id)
            .order_by(Event.name)
        ).all()
        type_id = db.scalar(select(EventType.id).where(EventType.project_id == config.project_id).limit(1))
    busiest, busiest_type = events[0]
    ids = [str(event_id) for event_id, _ in events]
    span = {"from": start.isoformat(), "to": end.isoformat()}
    app = create_app(context=ctx)
    gc.collect()
    gc.freeze()  # as `serve` does (serving.serve_app): full collections then skip startup's objects
    client = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN})
    login = client.post("/api/v1/auth/login", json={"email": "bench@example.com", "password": "bench pass"})
    assert login.status_code == 200, login.text
    api = f"/api/v1/projects/{slug}"
    scan = f"{api}/scans/{scan_id}"
    reads: list[tuple[str, Callable[[], httpx.Response]]] = [
        (f"window metrics, {len(ids)} events", lambda: client.post(
            f"{api}/events/window-metrics",
            json={"event_ids": ids, "time_from": span["from"], "time_to": span["to"]},
        )),
        ("events metrics (sum of all)", lambda: client.get(f"{api}/events-metrics", params=span)),
        ("project total", lambda: client.get(f"{api}/metrics/total", params=span)),
        ("one event", lambda: client.get(f"{api}/events/{busiest}/metrics", params=span)),
        ("one event's breakdowns", lambda: client.get(
            f"{api}/events/{busiest}/metrics/breakdowns", params=span
        )),
        ("one event type", lambda: client.get(f"{api}/event-types/{type_id}/metrics", params=span)),
        ("top events (720 h)", lambda: client.get(
            f"{api}/overview/top-events", params={"window_hours": 720}
        )),
        ("breakdown timeline", lambda: client.get(f"{scan}/breakdown-timeline", params={
            **span, "scope_type": "event_type", "scope_ref": str(busiest_type),
            "breakdown_column": "platform", "breakdown_value": "ios",
        })),
        ("seasonality heatmap (project)", lambda: client.get(f"{scan}/seasonality", params={
            **span, "scope_type": "project_total", "scope_ref": str(scan_id),
        })),
        ("app versions (project)", lambda: client.get(f"{scan}/app-versions", params=span)),
        ("app versions (one event)", lambda: client.get(f"{scan}/app-versions", params={
            **span, "scope_type": "event", "scope_ref": str(busiest),
        })),
        ("version adoption", lambda: client.get(f"{scan}/version-adoption", params=span)),
    ]  # fmt: skip
    print(f"  {'read':34} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
    for name, call in reads:
        median, slowest, size = timed(call, args.repeat)
        print(f"  {name:34} {median:10.1f} {slowest:8.1f} {size:10,}")
    ctx.close()


if __name__ == "__main__":
    main()
