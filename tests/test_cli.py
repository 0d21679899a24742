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
