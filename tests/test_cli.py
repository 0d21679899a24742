from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tripl.cli import main
from tripl.core.db import Database
from tripl.workspace.users.models import User


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("TRIPL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TRIPL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_create_user_non_interactively(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["create-user", "--email", "Boss@Example.com", "--password", "long enough", "--role", "owner"])
        == 0
    )
    assert main(["create-user", "--email", "boss@example.com", "--password", "long enough"]) == 1
    assert main(["create-user", "--email", "x@example.com", "--password", "short"]) == 2
    assert "already has an account" in capsys.readouterr().err
    db = Database(f"sqlite:///{data_dir / 'tripl.db'}")
    with db.sessions() as session:
        users = session.scalars(select(User)).all()
    db.dispose()
    assert [(u.email, u.role.value) for u in users] == [("boss@example.com", "owner")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_on_the_embedded_default(data_dir: Path) -> None:
    """What the README's first command runs: SQLite, in-process worker, API and /docs."""
    port = free_port()
    env = {**os.environ, "TRIPL_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tripl.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/auth/status").json() == {
            "has_users": False,
            "registration_enabled": True,
        }
        assert httpx.get(f"{base}/docs").status_code == 200
        first = httpx.post(
            f"{base}/api/v1/auth/register", json={"email": "a@example.com", "password": "pass word 1"}
        )
        assert first.status_code == 201 and first.json()["role"] == "owner"
        assert (data_dir / "tripl.db").exists() and (data_dir / "queue.db").exists()
        assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0  # generated secrets are private
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}" in output and "create the first account" in output
    assert proc.returncode == 0, output


def listening_sockets(port: int) -> int:
    """LISTEN sockets on the port, from the kernel's tables (Linux)."""
    hex_port = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            count += fields[1].endswith(hex_port) and fields[3] == "0A"
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket table")
def test_serve_with_two_processes_shares_the_port_and_every_process_sees_every_write(
    data_dir: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tripl.cli", "serve", "--processes", "2", "--port", str(port)]
    env = {**os.environ, "TRIPL_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 40
        while listening_sockets(port) < 2:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the two processes did not come up"
            time.sleep(0.2)
        assert listening_sockets(port) == 2  # one socket per process: the kernel spreads connections

        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in second.stderr

        owner = {"email": "a@example.com", "password": "pass word 1"}
        assert httpx.post(f"{base}/api/v1/auth/register", json=owner).status_code == 201
        cookies = httpx.post(f"{base}/api/v1/auth/login", json=owner).cookies
        headers = {"origin": base}

        def call(method: str, path: str, **kwargs: object) -> httpx.Response:
            # A new connection each time: the kernel picks the process by the connection's ports.
            with httpx.Client(base_url=base, cookies=cookies, headers=headers) as client:
                return client.request(method, f"/api/v1{path}", **kwargs)  # type: ignore[arg-type]

        assert call("POST", "/projects", json={"name": "Shop", "slug": "shop"}).status_code == 201
        kind = call("POST", "/projects/shop/event-types", json={"name": "screen", "display_name": "Screen"})
        assert kind.status_code == 201, kind.text
        assert {call("GET", "/projects/shop/events").json()["total"] for _ in range(12)} == {0}
        created = call(
            "POST", "/projects/shop/events", json={"event_type_id": kind.json()["id"], "name": "Home"}
        )
        assert created.status_code == 201, created.text
        # Both processes had cached the empty page; neither may serve it again.
        assert {call("GET", "/projects/shop/events").json()["total"] for _ in range(12)} == {1}
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "API processes: 2" in output and listening_sockets(port) == 0
