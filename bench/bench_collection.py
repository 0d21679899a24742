"""Metric collection vs the bare aggregate query, on the same warehouse data.

    uv run python bench/bench_collection.py [--duckdb-rows 10000000] [--pg-rows 1000000]
                                            [--days 30] [--pg-admin-url URL] [--skip-pg] [--repeat 3]

Builds an `events` table inside each engine (DuckDB `range()`, PostgreSQL `generate_series`;
no Python loops), hourly over `--days` days ending at the current hour. Then, per engine:
- bare: the GROUP BY bucket, event_name, event_type count query over the whole range, run
  straight on the engine (what a hand-written job would cost); also run once per weekly chunk
  (the replay's chunks), which shows what cutting the window costs the engine before any of
  tripl's own work;
- collect: a replay job over the same range through the job runner (`run_job`), run by a worker
  process right after the catalog job it ran so events exist (replays reuse the catalog's event
  mapping): the replay is timed in a worker that has run a job before, as workers do. Its
  `replay_chunk_interval` is left unset, as a new scan config has it: tripl chooses the chunks
  (a day first, then as long as that read predicts stays cheap);
- collect+breakdowns: the same with a platform breakdown, app versions and platform drift;
- collect, weekly chunks: the plain replay with `replay_chunk_interval` set to a week.
Each measurement runs in its own subprocess (a "worker"), which reports its wall time, its CPU
time (all its threads; with DuckDB that includes the engine's, with PostgreSQL not the server's)
and peak RSS (ru_maxrss, which includes the engine's memory when DuckDB runs inside the worker, and the
catalog run's).
Every measurement runs `--repeat` times, in interleaved rounds; the report shows each one's median
run and the range of its wall times (single runs on a 2-core machine vary by +-30%). The ratio is
the median over rounds of each run against the same round's bare query over the whole window: a
slow spell of the machine then touches both sides of a ratio.
Targets: collect / bare <= 1.3, worker peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tripl.config import Settings
from tripl.core.context import TriplContext, build_context
from tripl.core.db import utcnow
from tripl.core.security import hash_password
from tripl.models import Base
from tripl.observe.data_sources.service import create_data_source
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.warehouse.base import DBType
from tripl.observe.warehouse.buckets import iter_chunks
from tripl.plan.projects.service import create_project
from tripl.workspace.users.models import User, UserRole

EVENTS = 30
EVENT_TYPES = ("screen_view", "click", "purchase", "signup", "error", "app")
BASE_QUERY = "SELECT event_time, event_name, event_type, platform, app_version FROM events"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPLAY_CHUNK = ScanInterval.w1

# Event popularity is skewed (event_00 is the most frequent); types cycle over events; the other
# columns come from independent slices of one hash per row.
DUCKDB_BUILD = """
CREATE TABLE events AS
SELECT
    make_timestamp({start_us} + CAST(CAST(i AS HUGEINT) * {span_us} // {n} AS BIGINT)) AS event_time,
    'event_' || lpad(CAST(e AS VARCHAR), 2, '0') AS event_name,
    list_extract({types}, 1 + e % 6) AS event_type,
    list_extract(['ios', 'android', 'web'], 1 + CAST(h // 1000 % 3 AS INTEGER)) AS platform,
    list_extract(['2.1.0', '2.2.0', '2.3.0', '2.4.0'], 1 + CAST(h // 3000 % 4 AS INTEGER)) AS app_version,
    'u' || CAST(h // 12000 % 200000 AS VARCHAR) AS user_id
FROM (
    SELECT i, h, CAST(floor({events} * pow((h % 1000) / 1000.0, 2)) AS INTEGER) AS e
    FROM (SELECT range AS i, hash(range) AS h FROM range({n}))
)
ORDER BY event_time
"""
POSTGRES_BUILD = """
CREATE TABLE events AS
SELECT
    TIMESTAMPTZ '{start}+00' + make_interval(secs => i * {span_s}::float8 / {n}) AS event_time,
    'event_' || lpad(e::text, 2, '0') AS event_name,
    ({types})[1 + e % 6] AS event_type,
    (ARRAY['ios', 'android', 'web'])[1 + (h / 1000 % 3)::int] AS platform,
    (ARRAY['2.1.0', '2.2.0', '2.3.0', '2.4.0'])[1 + (h / 3000 % 4)::int] AS app_version,
    'u' || (h / 12000 % 200000)::text AS user_id
FROM (
    SELECT i, h, floor({events} * power((h % 1000) / 1000.0, 2))::int AS e
    FROM (SELECT i, abs(hashint8(i)) AS h FROM generate_series(0, {n} - 1) AS i) AS hashed
) AS rows
ORDER BY event_time
"""
BUCKET_SQL = {
    "duckdb": "date_trunc('hour', event_time)",
    "postgres": "date_bin('1 hour', event_time, TIMESTAMPTZ '1970-01-01 00:00:00+00')",
}
PARAM = {"duckdb": "?", "postgres": "%s"}
# The bare versions of the aggregations a collection needs, per mode. Plain: counts per (bucket,
# event, type). With breakdowns, three queries: the counts also per app version, the platform per
# event (a scan-level breakdown), the platform per event type (distribution drift). tripl counts
# that drift from the breakdown's rows (the breakdown keeps every value), so it runs the first two
# only: "breakdowns-2" shows those two bare, for comparison; the ratio stays against all three.
BARE_GROUPS: dict[str, list[tuple[str, ...]]] = {
    "plain": [("event_name", "event_type")],
    "breakdowns": [
        ("event_name", "event_type", "app_version"),
        ("event_name", "event_type", "platform"),
        ("event_type", "platform"),
    ],
    "breakdowns-2": [
        ("event_name", "event_type", "app_version"),
        ("event_name", "event_type", "platform"),
    ],
}


def bare_sql(engine: str, columns: tuple[str, ...]) -> str:
    keys = ", ".join(columns)
    positions = ", ".join(str(i) for i in range(1, len(columns) + 2))
    return (
        f"SELECT {BUCKET_SQL[engine]} AS bucket, {keys}, count(*) AS n FROM events"
        f" WHERE event_time >= {PARAM[engine]} AND event_time < {PARAM[engine]} GROUP BY {positions}"
    )


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- data ---------------------------------------------------------------------------------------


def window(days: int) -> tuple[datetime, datetime]:
    end = utcnow().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=days), end


def build_duckdb(path: Path, rows: int, start: datetime, end: datetime) -> float:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        con.execute(
            DUCKDB_BUILD.format(
                start_us=int(start.timestamp()) * 1_000_000,
                span_us=int((end - start).total_seconds() * 1_000_000),
                n=rows,
                events=EVENTS,
                types="[" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + "]",
            )
        )
        con.execute("CHECKPOINT")
    return time.perf_counter() - started


def create_postgres_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def build_postgres(admin_url: str, rows: int, start: datetime, end: datetime) -> tuple[str, float]:
    name = create_postgres_database(admin_url, "tripl_bench")
    url = make_url(admin_url).set(database=name)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                POSTGRES_BUILD.format(
                    start=start.replace(tzinfo=None).isoformat(sep=" "),
                    span_s=(end - start).total_seconds(),
                    n=rows,
                    events=EVENTS,
                    types="ARRAY[" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + "]",
                )
            )
        )
        conn.execute(text("CREATE INDEX events_time_brin ON events USING brin (event_time)"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE events"))
    engine.dispose()
    return name, time.perf_counter() - started


def drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- tripl side ---------------------------------------------------------------------------------


METADATA_URL_ENV = "TRIPL_BENCH_METADATA_URL"  # set by the parent for its workers
# A directory: when set, each replay runs under cProfile and writes collect.prof or
# collect-breakdowns.prof there (the last round's).
PROFILE_ENV = "TRIPL_BENCH_PROFILE"


def bench_context(data_dir: Path) -> TriplContext:
    return build_context(
        Settings(
            data_dir=data_dir,
            database_url=os.environ.get(METADATA_URL_ENV) or None,
            queue_url=f"sqlite:///{data_dir / 'queue.db'}",
            secret_key="bench",
        )
    )


def make_scan(
    ctx: TriplContext,
    source: dict[str, Any],
    *,
    breakdowns: bool,
    label: str,
    chunk: ScanInterval | None = REPLAY_CHUNK,
) -> uuid.UUID:
    with ctx.db.transaction() as db:
        actor = db.scalar(select(User).where(User.email == "bench@example.com"))
        if actor is None:
            actor = User(
                email="bench@example.com",
                name="bench",
                password_hash=hash_password("bench pass"),
                role=UserRole.owner,
            )
            db.add(actor)
            db.flush()
        project = create_project(db, actor, name=f"Bench {label}", slug=f"bench-{label}", description="")
        data_source = create_data_source(db, ctx, actor, {"name": f"bench {label}", **source})
        config = ScanConfig(
            project_id=project.id,
            data_source_id=data_source.id,
            name=f"bench {label}",
            base_query=BASE_QUERY,
            event_type_column="event_type",
            time_column="event_time",
            event_name_format="{event_name}",
            interval=ScanInterval.h1,
            replay_chunk_interval=chunk,
            scan_row_limit=1_000_000,
            metric_breakdown_columns=["platform"] if breakdowns else [],
            distribution_drift_fields=["platform"] if breakdowns else [],
            app_version_column="app_version" if breakdowns else None,
        )
        db.add(config)
        db.flush()
        return config.id


def new_job(
    ctx: TriplContext,
    config_id: uuid.UUID,
    kind: ScanJobKind,
    time_from: datetime | None,
    time_to: datetime | None,
) -> uuid.UUID:
    with ctx.db.transaction() as db:
        job = ScanJob(
            scan_config_id=config_id,
            kind=kind,
            status=ScanJobStatus.pending,
            time_from=time_from,
            time_to=time_to,
        )
        db.add(job)
        db.flush()
        return job.id


def job_outcome(ctx: TriplContext, job_id: uuid.UUID) -> tuple[str, str | None, dict[str, Any]]:
    with ctx.db.sessions() as db:
        job = db.get(ScanJob, job_id)
        assert job is not None
        return job.status.value, job.error_message, dict(job.result_summary or {})


def in_worker(*args: str) -> dict[str, Any]:
    """Run this script in a fresh process for one measurement; it prints one JSON line."""
    out = subprocess.run(
        [sys.executable, __file__, *args], check=False, capture_output=True, text=True, env=os.environ.copy()
    )
    if out.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def worker_collect(data_dir: str, catalog_job: str, start: str, end: str) -> None:
    """Run the catalog job, then a replay of [start, end) of the same config, in this process as a
    worker does (one job at a time per config); each is timed."""
    # A worker warms up before its first job (pipelines and SQL dialects imported), as the bare
    # side imports its driver before the clock starts.
    from tripl.observe.scans.jobs import load_pipelines, run_job

    load_pipelines()
    ctx = bench_context(Path(data_dir))
    with ctx.db.sessions() as db:
        catalog = db.get(ScanJob, uuid.UUID(catalog_job))
        assert catalog is not None
        config_id = catalog.scan_config_id
        profile_dir = os.environ.get(PROFILE_ENV)
        profile_to = None
        if profile_dir:
            config = db.get(ScanConfig, config_id)
            assert config is not None
            name = "collect-breakdowns" if config.metric_breakdown_columns else "collect"
            profile_to = str(Path(profile_dir) / f"{name}.prof")

    def timed(job_id: uuid.UUID, profile_to: str | None = None) -> dict[str, Any]:
        profiler = cProfile.Profile() if profile_to else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.runcall(run_job, ctx, job_id)
        else:
            run_job(ctx, job_id)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler and profile_to:
            profiler.dump_stats(profile_to)
        status, error, summary = job_outcome(ctx, job_id)
        return {"seconds": seconds, "cpu": cpu, "status": status, "error": error,
                "summary": {k: v for k, v in summary.items() if k != "details"}}  # fmt: skip

    jobs = [timed(uuid.UUID(catalog_job))]
    if jobs[0]["status"] == "completed":
        window = (datetime.fromisoformat(start), datetime.fromisoformat(end))
        replay = new_job(ctx, config_id, ScanJobKind.replay, *window)
        jobs.append(timed(replay, profile_to))
    print(json.dumps({"jobs": jobs, "rss_mb": peak_rss_mb()}))


def worker_bare(engine: str, target: str, start: str, end: str, mode: str, chunked: str) -> None:
    """Runs the mode's bare queries one after the other, fetching every row (as a collection does);
    chunked ("yes"): over the replay's chunks, one query per chunk, with no other work."""
    time_from, time_to = datetime.fromisoformat(start), datetime.fromisoformat(end)
    windows = (
        list(iter_chunks(time_from, time_to, REPLAY_CHUNK.value))
        if chunked == "yes"
        else [(time_from, time_to)]
    )
    results: list[list[Any]] = [[] for _ in BARE_GROUPS[mode]]
    import duckdb
    import psycopg

    started, cpu = time.perf_counter(), time.process_time()
    if engine == "duckdb":
        with duckdb.connect(target, read_only=True) as con:
            for low, high in windows:
                for result, columns in zip(results, BARE_GROUPS[mode], strict=True):
                    params = [low.replace(tzinfo=None), high.replace(tzinfo=None)]
                    result += con.execute(bare_sql(engine, columns), params).fetchall()
    else:
        with psycopg.connect(target) as con:
            for low, high in windows:
                for result, columns in zip(results, BARE_GROUPS[mode], strict=True):
                    result += con.execute(bare_sql(engine, columns), (low, high)).fetchall()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    first, result_rows = results[0], sum(len(r) for r in results)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": peak_rss_mb(), "groups": len(first),
                      "rows": sum(int(r[-1]) for r in first), "result_rows": result_rows}))  # fmt: skip


# --- report -------------------------------------------------------------------------------------


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, with the range of all runs' wall times and the highest RSS."""
    ranked = sorted(runs, key=itemgetter("seconds"))
    middle = ranked[(len(ranked) - 1) // 2]
    spread = f"{ranked[0]['seconds']:.2f}-{ranked[-1]['seconds']:.2f}"
    return {**middle, "spread": spread, "rss_mb": max(run["rss_mb"] for run in runs)}


def paired_ratio(runs: list[dict[str, Any]], whole: list[dict[str, Any]]) -> float:
    """The median over rounds of a run's wall time against the same round's `whole` run."""
    whole_of = {run["round"]: run["seconds"] for run in whole}
    ratios = sorted(run["seconds"] / whole_of[run["round"]] for run in runs if run["round"] in whole_of)
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


def measure_engine(
    ctx: TriplContext, data_dir: Path, label: str, source: dict[str, Any], bare_target: str,
    rows: int, start: datetime, end: datetime, repeat: int,
) -> None:  # fmt: skip
    engine = source["db_type"].value
    window_args = (start.isoformat(), end.isoformat())
    variants = [(mode, chunked) for mode in ("plain", "breakdowns") for chunked in ("no", "yes")]
    variants.append(("breakdowns-2", "no"))
    # Collections: plain and with breakdowns, chunks chosen by tripl; plain in weekly chunks.
    collections: list[tuple[bool, ScanInterval | None]] = [(False, None), (True, None), (False, REPLAY_CHUNK)]
    runs: dict[Any, list[dict[str, Any]]] = {key: [] for key in [*variants, *collections]}
    failed: dict[Any, str] = {}
    # Rounds interleave every measurement, so a slow spell of the machine touches them alike.
    for round_no in range(repeat):
        for mode, chunked in variants:
            runs[(mode, chunked)].append(
                {**in_worker("--bare", engine, bare_target, *window_args, mode, chunked), "round": round_no}
            )
        for key in collections:
            if key in failed:
                continue
            breakdowns, chunk = key
            kind = "breakdowns" if breakdowns else "weekly" if chunk else "plain"
            name = f"{engine}-{kind}-{round_no}"
            config_id = make_scan(ctx, source, breakdowns=breakdowns, label=name, chunk=chunk)
            catalog_job = new_job(ctx, config_id, ScanJobKind.catalog, None, None)
            worker = in_worker("--collect", str(data_dir), str(catalog_job), *window_args)
            catalog, *replay = worker["jobs"]
            if catalog["status"] != "completed":
                failed[key] = f"the catalog run {catalog['status']}: {catalog['error']}"
            elif replay[0]["status"] != "completed":
                failed[key] = f"{replay[0]['status']}: {replay[0]['error']}"
            else:
                runs[key].append({**replay[0], "rss_mb": worker["rss_mb"], "round": round_no})
    bare = median_run(runs[("plain", "no")])
    print(f"\n{label}: {rows:,} rows, {bare['groups']:,} (bucket, event, type) groups; "
          f"median of {repeat} runs (range of wall times)")  # fmt: skip
    if bare["rows"] != rows:
        print(f"  warning: the bare query counted {bare['rows']:,} rows")
    print(f"  {'run':22} {'wall s':>7} {'range':>10} {'ratio':>6} {'CPU s':>6} {'rows/s':>12} {'RSS MB':>7}")

    def line(name: str, key: Any, whole: list[dict[str, Any]], note: str = "") -> None:
        run = median_run(runs[key])
        ratio = paired_ratio(runs[key], whole)
        print(f"  {name:22} {run['seconds']:7.2f} {run['spread']:>10} {ratio:6.2f} {run['cpu']:6.2f} "
              f"{rows / run['seconds']:12,.0f} {run['rss_mb']:7.0f}  {note}")  # fmt: skip

    for mode, name in (("plain", "bare GROUP BY"), ("breakdowns", "bare 3 GROUP BYs")):
        whole = runs[(mode, "no")]
        for chunked, label in (("no", name), ("yes", "  same, weekly chunks")):
            line(label, (mode, chunked), whole, f"({runs[(mode, chunked)][0]['result_rows']:,} result rows)")
    line("  of them the first 2", ("breakdowns-2", "no"), whole, "(what tripl queries)")
    for key in collections:
        breakdowns, chunk = key
        name = "collect+breakdowns" if breakdowns else "collect, weekly chunks" if chunk else "collect"
        if key in failed:
            print(f"  {name}: {failed[key]}")
            continue
        # The ratio is against the same aggregations, each run once over the whole window.
        line(name, key, runs[("breakdowns" if breakdowns else "plain", "no")])
        summary = median_run(runs[key])["summary"]
        keys = ("chunks", "metric_rows", "breakdown_rows", "version_rows")
        print(f"  {'':22} {dict((k, summary[k]) for k in keys if k in summary)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duckdb-rows", type=int, default=10_000_000)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pg-admin-url", default=os.environ.get("TRIPL_TEST_PG_ADMIN_URL", PG_ADMIN_URL))
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement (the median is shown)"
    )
    parser.add_argument(
        "--collect", nargs=4, metavar=("DATA_DIR", "CATALOG_JOB", "FROM", "TO"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--metadata",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="tripl's own database: SQLite in the temporary data dir, or a fresh PostgreSQL database",
    )
    parser.add_argument(
        "--bare",
        nargs=6,
        metavar=("ENGINE", "TARGET", "FROM", "TO", "MODE", "CHUNKED"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--build-duckdb", nargs=4, metavar=("PATH", "ROWS", "FROM", "TO"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.build_duckdb:
        path, rows, time_from, time_to = args.build_duckdb
        seconds = build_duckdb(
            Path(path), int(rows), datetime.fromisoformat(time_from), datetime.fromisoformat(time_to)
        )
        print(json.dumps({"seconds": seconds}))
        return
    if args.collect:
        worker_collect(*args.collect)
        return
    if args.bare:
        worker_bare(*args.bare)
        return

    start, end = window(args.days)
    print(f"metric collection benchmark: {args.days} days hourly ending {end.isoformat()}, "
          f"{os.cpu_count()} CPUs, {args.metadata} metadata DB")  # fmt: skip
    metadata_db = None
    if args.metadata == "postgres":
        metadata_db = create_postgres_database(args.pg_admin_url, "tripl_bench_meta")
        os.environ[METADATA_URL_ENV] = (
            make_url(args.pg_admin_url).set(database=metadata_db).render_as_string(hide_password=False)
        )
    with tempfile.TemporaryDirectory(prefix="tripl-bench-") as tmp:
        data_dir = Path(tmp)
        ctx = bench_context(data_dir)
        Base.metadata.create_all(ctx.db.engine)
        try:
            duck_path = data_dir / "warehouses" / "bench.duckdb"
            # Built by a worker process: a big parent would pass its peak RSS on to every worker it
            # starts (Linux keeps ru_maxrss across fork and exec).
            built = in_worker("--build-duckdb", str(duck_path), str(args.duckdb_rows), start.isoformat(),
                              end.isoformat())  # fmt: skip
            seconds = built["seconds"]
            print(f"built DuckDB events: {args.duckdb_rows:,} rows in {seconds:.1f} s "
                  f"({duck_path.stat().st_size / 2**20:.0f} MB file)")  # fmt: skip
            duck_source = {"db_type": DBType.duckdb, "host": "localhost", "database_name": "bench.duckdb"}
            measure_engine(
                ctx,
                data_dir,
                "DuckDB",
                duck_source,
                str(duck_path),
                args.duckdb_rows,
                start,
                end,
                args.repeat,
            )
            if not args.skip_pg:
                pg_name, seconds = build_postgres(args.pg_admin_url, args.pg_rows, start, end)
                try:
                    print(f"\nbuilt PostgreSQL events: {args.pg_rows:,} rows in {seconds:.1f} s")
                    url = make_url(args.pg_admin_url).set(database=pg_name)
                    pg_source = {
                        "db_type": DBType.postgres,
                        "host": url.host or "127.0.0.1",
                        "port": url.port or 5432,
                        "database_name": pg_name,
                        "username": url.username or "postgres",
                        "password": url.password or "",
                    }
                    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
                    measure_engine(
                        ctx, data_dir, "PostgreSQL", pg_source, dsn, args.pg_rows, start, end, args.repeat
                    )
                finally:
                    drop_postgres(args.pg_admin_url, pg_name)
        finally:
            ctx.close()
            if metadata_db is not None:
                drop_postgres(args.pg_admin_url, metadata_db)


if __name__ == "__main__":
    main()
