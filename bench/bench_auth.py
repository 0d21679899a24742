"""Auth throughput: login and GET /auth/me vs a bare FastAPI endpoint, same machine, same run.

    uv run python bench/bench_auth.py [--database-url URL] [--seconds 5] [--concurrency 16]

Starts two uvicorn servers on loopback (tripl on the embedded SQLite default unless a database
URL is given, and a bare FastAPI app), drives each with concurrent httpx clients for a fixed
time, and prints requests/s, p50 and p95 latency and the ratio to the bare endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import httpx

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}
"""
PASSWORD = "benchmark password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server for {url} did not start")


async def drive(
    seconds: float,
    concurrency: int,
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    make_client: Callable[[], httpx.AsyncClient],
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        async with make_client() as client:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await request(client)
                if response.status_code >= 400:
                    raise SystemExit(f"benchmark request failed: {response.status_code} {response.text}")
                latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def report(name: str, rps: float, latencies: list[float], baseline: float | None) -> None:
    q = statistics.quantiles(latencies, n=100)
    ratio = f"  {baseline / rps:5.2f}x slower than bare" if baseline else ""
    print(
        f"{name:28s} {rps:8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
        f"n={len(latencies)}{ratio}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="tripl-bench-")
    env = {
        **os.environ,
        "TRIPL_DATA_DIR": data_dir,
        "TRIPL_LOGIN_RATE_LIMIT_PER_MINUTE": "1000000",
        "TRIPL_REGISTER_RATE_LIMIT_PER_HOUR": "1000000",
        "TRIPL_LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["TRIPL_DATABASE_URL"] = args.database_url
    bare_file = os.path.join(data_dir, "bare_app.py")
    with open(bare_file, "w") as f:
        f.write(BARE_APP)
    tripl_port, bare_port = free_port(), free_port()
    tripl = start(
        [sys.executable, "-m", "tripl.cli", "serve", "--port", str(tripl_port)],
        env,
        f"http://127.0.0.1:{tripl_port}/health",
    )
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            data_dir,
            "bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
        ],
        env,
        f"http://127.0.0.1:{bare_port}/ping",
    )
    try:
        base = f"http://127.0.0.1:{tripl_port}"
        headers = {"origin": base}
        with httpx.Client(base_url=base, headers=headers) as setup:
            setup.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
            token = setup.post("/api/v1/me/api-keys", json={"name": "bench"}).json()["token"]
            cookie = setup.cookies["tripl_session"]

        print(
            f"{os.cpu_count()} cores, {args.concurrency} concurrent clients, {args.seconds:.0f} s each, "
            f"metadata DB: {args.database_url or 'embedded SQLite'}"
        )
        bare_rps, lat = await drive(
            args.seconds,
            args.concurrency,
            lambda c: c.get("/ping"),
            lambda: httpx.AsyncClient(base_url=f"http://127.0.0.1:{bare_port}"),
        )
        report("bare FastAPI GET /ping", bare_rps, lat, None)
        rps, lat = await drive(
            args.seconds,
            args.concurrency,
            lambda c: c.get("/api/v1/auth/me"),
            lambda: httpx.AsyncClient(base_url=base, cookies={"tripl_session": cookie}),
        )
        report("GET /auth/me (cookie)", rps, lat, bare_rps)
        rps, lat = await drive(
            args.seconds,
            args.concurrency,
            lambda c: c.get("/api/v1/auth/me"),
            lambda: httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}),
        )
        report("GET /auth/me (API key)", rps, lat, bare_rps)
        login = {"email": "bench@example.com", "password": PASSWORD}
        rps, lat = await drive(
            args.seconds,
            args.concurrency,
            lambda c: c.post("/api/v1/auth/login", json=login),
            lambda: httpx.AsyncClient(base_url=base, headers=headers),
        )
        report("POST /auth/login (argon2id)", rps, lat, bare_rps)
    finally:
        for proc in (tripl, bare):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
