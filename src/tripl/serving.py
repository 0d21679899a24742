"""Running the API in one process, or in several processes that share the port.

With several processes each one binds its own listening socket with SO_REUSEPORT, so the kernel
spreads new connections evenly over them. (When processes accept from one shared socket, as
uvicorn's own `--workers` does, the busiest process tends to win the accepts: the benchmark saw
28 of 32 keep-alive connections land on one of two processes, and that process's clients waited
twice as long.) Only the first process consumes jobs in-process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import signal
import socket
import sys
from types import FrameType

from tripl.config import Settings


def serve_app(
    settings: Settings, host: str, port: int, *, start_worker: bool, sock: socket.socket | None = None
) -> None:
    """Build the app and serve it in this process until it is told to stop."""
    import uvicorn

    from tripl.app import create_app
    from tripl.core.context import build_context

    app = create_app(context=build_context(settings))
    app.state.start_worker = start_worker
    # Startup's long-lived objects leave the cyclic GC's scans: every full collection otherwise walks
    # them all, a third of a list request's CPU (bench/bench_events.py).
    gc.freeze()
    config = uvicorn.Config(
        app, host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=False
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a terminal stops it: not an error
        uvicorn.Server(config).run(sockets=[sock] if sock is not None else None)


def serve_processes(settings: Settings, host: str, port: int, *, processes: int, start_worker: bool) -> int:
    """Serve from `processes` processes on one port; returns the exit status."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise SystemExit("tripl: --workers above 1 needs SO_REUSEPORT (Linux, macOS or BSD)")
    _check_port_free(host, port)  # a port shared by SO_REUSEPORT would otherwise be shared silently
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(
            target=_child, args=(settings, host, port, start_worker and i == 0), name=f"tripl-web-{i}"
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    # One process ending (a crash, or a stop) ends the others: a half-served port is worse than none.
    while any(child.is_alive() for child in children):
        for child in children:
            child.join(timeout=0.5)
            if not child.is_alive():
                if child.exitcode not in (0, -signal.SIGTERM, -signal.SIGINT):
                    status = 1
                stop(signal.SIGTERM, None)
    return status


def _child(settings: Settings, host: str, port: int, start_worker: bool) -> None:
    sock = _listening_socket(host, port)
    try:
        serve_app(settings, host, port, start_worker=start_worker, sock=sock)
    finally:
        sock.close()
        sys.stdout.flush()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _check_port_free(host: str, port: int) -> None:
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise SystemExit(f"tripl: cannot listen on {host}:{port}: {exc.strerror}") from None
    finally:
        probe.close()
