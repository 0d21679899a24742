"""GET /events on a large plan: 10,000 events x 20 field values on PostgreSQL.

    uv run python bench/bench_events.py [--events 10000] [--seconds 8] [--concurrency 32] [--processes 2]

Creates a temporary PostgreSQL database (dropped at the end), fills it with SQL bulk inserts (not
through the API; see plan_data.py), starts tripl the way users do (`tripl-server serve --processes N`)
on a loopback port and drives `GET /events` from concurrent keep-alive connections using an API key.
The client is a minimal HTTP/1.1 loop on asyncio (uvloop), so that it takes little of the CPU the
server shares with it. Prints requests/s, p50/p95 latency, the server's CPU per request, and the SQL
statements one request runs with their EXPLAIN ANALYZE execution times.

Repeated identical requests from the same key are answered before routing from each process's
reused responses, after one shared read of the plan generation (core/reuse.py; any plan, user or
key write invalidates them); the "another page each time" rows measure the uncached path.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_data import FIELDS_PER_TYPE, TYPES, create_database, drop_database, fill


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, processes: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRIPL_DATABASE_URL": url,
        "TRIPL_DATA_DIR": data_dir,
        "TRIPL_LOG_LEVEL": "WARNING",
        "TRIPL_SECRET_KEY": "bench-secret",
    }
    server = str(Path(sys.executable).with_name("tripl-server"))
    command = [server, "serve", "--no-worker", "--port", str(port), "--processes", str(processes)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                time.sleep(2)  # every process up, not just the first
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("tripl did not start")


Params = dict[str, Any] | Callable[[], dict[str, Any]]


async def drive(
    port: int, token: str, params: Params, seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    """Closed loop: each connection sends its next request when the previous answer is read."""
    latencies: list[float] = []

    def request() -> bytes:
        query = urlencode(params() if callable(params) else params, doseq=True)
        return (
            f"GET /api/v1/projects/bench/events?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(request())
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        # Only a cheap check: parsing every body here would take CPU from the server.
        if not head.startswith(b"HTTP/1.1 200") or not body.startswith(b'{"items":['):
            raise SystemExit(f"request failed: {head[:200]!r} {body[:300]!r}")

    async def connection(stop_at: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await exchange(reader, writer)  # warm: the connection is open and its process has served once
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await exchange(reader, writer)
            latencies.append(time.perf_counter() - started)
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection(began + seconds) for _ in range(concurrency)))
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
            data_dir=Path(tempfile.mkdtemp(prefix="tripl-bench-")),
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


def server_pids(pid: int) -> list[int]:
    """The `serve` parent and its API processes."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU time of these processes (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def report(name: str, rps: float, latencies: list[float], target_ms: float | None, cpu_ms: float) -> None:
    q = statistics.quantiles(latencies, n=100)
    verdict = ""
    if target_ms is not None:
        met = "met" if q[94] * 1000 <= target_ms else "MISSED"
        verdict = f"  target p95<={target_ms:.0f}ms {met}"
    print(
        f"  {name:52s} {rps:6.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
        f"server CPU {cpu_ms:5.1f} ms/req  n={len(latencies)}{verdict}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="serve --processes")
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
        pages = itertools.count(0, 50)

        def next_page(limit: int) -> Callable[[], dict[str, Any]]:
            return lambda: {"limit": limit, "offset": next(pages) % (args.events - limit)}

        search = {"status": ["live", "draft"], "search": "event_1"}
        silent = {"silent_since_days": 30, "offset": 2000}
        scenarios: list[tuple[str, Params, float | None]] = [
            ("limit 50", {"limit": 50}, 50.0),
            ("limit 200", {"limit": 200}, None),
            ("limit 50, status+search", {"limit": 50, **search}, 50.0),
            ("limit 200, status+search", {"limit": 200, **search}, None),
            ("limit 50, type+tag", {"limit": 50, "event_type_id": type_id, "tag": "tag_3"}, 50.0),
            ("limit 50, field_value", {"limit": 50, "field_value": "value_99"}, 50.0),
            ("limit 50, silent 30 days, offset 2000", {"limit": 50, **silent}, 50.0),
            ("limit 50, another page each time (uncached)", next_page(50), None),
            ("limit 200, another page each time (uncached)", next_page(200), None),
        ]
        print("\nstatements of one uncached request (EXPLAIN ANALYZE execution time):")
        for name, params, _ in scenarios[:1] + scenarios[5:6]:
            assert isinstance(params, dict)
            print(f"  {name}:")
            for statement, ms in statements_of_one_request(url, token, params):
                print(f"    {ms:7.2f} ms  {statement}")

        port = free_port()
        proc = start_server(url, port, args.processes, tempfile.mkdtemp(prefix="tripl-bench-"))
        server = server_pids(proc.pid)
        print(
            f"\n{os.cpu_count()} cores (shared with PostgreSQL and this client), tripl-server serve "
            f"--processes {args.processes}, {args.concurrency} concurrent connections, "
            f"{args.seconds:.0f} s per row"
        )
        runs = [(f"GET /events {n}", p, t, args.concurrency) for n, p, t in scenarios]
        runs.append(("GET /events limit 50, 1 connection (no queueing)", {"limit": 50}, 50.0, 1))
        for name, params, target, clients in runs:
            cpu_before = cpu_seconds(server)
            rps, lat = await drive(port, token, params, args.seconds, clients)
            cpu_per_request = (cpu_seconds(server) - cpu_before) / len(lat) * 1000
            report(name, rps, lat, target, cpu_per_request)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        if args.keep:
            print("database kept:", url)
        else:
            drop_database(url)


if __name__ == "__main__":
    uvloop.run(main())
