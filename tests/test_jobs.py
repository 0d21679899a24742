"""The job path end to end: enqueue → queue backend → consumer threads → database effect."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import REDIS_URL, add_user, empty_all_tables, make_settings
from tripl.core.context import TriplContext, build_context
from tripl.core.db import utcnow
from tripl.core.jobs import JobQueue
from tripl.workspace.users.models import UserRole, UserSession


@pytest.fixture(params=["sqlite", "redis"])
def job_context(
    request: pytest.FixtureRequest, context: TriplContext, tmp_path: object
) -> Iterator[TriplContext]:
    """A context sharing the test database, with its own queue on the given backend."""
    queue_url = f"sqlite:///{tmp_path}/queue.db" if request.param == "sqlite" else REDIS_URL
    ctx = build_context(
        make_settings(tmp_path, context.db.url, queue_url=queue_url)  # type: ignore[arg-type]
    )
    ctx.queue = JobQueue(queue_url, ctx, name=f"test-{uuid.uuid4().hex[:8]}")
    yield ctx
    ctx.queue.huey.storage.flush_all()
    ctx.close()
    empty_all_tables(context)


def sessions_left(ctx: TriplContext) -> int:
    with ctx.db.sessions() as db:
        return db.scalar(select(func.count()).select_from(UserSession)) or 0


def test_enqueued_job_runs_on_consumer_threads(job_context: TriplContext) -> None:
    user = add_user(job_context, f"jobs-{uuid.uuid4().hex[:6]}@example.com", UserRole.viewer)
    now = utcnow()
    with job_context.db.transaction() as db:
        db.add(UserSession(user_id=user.id, token_hash="a" * 64, expires_at=now - timedelta(hours=1)))
        db.add(UserSession(user_id=user.id, token_hash="b" * 64, expires_at=now + timedelta(hours=1)))

    result = job_context.queue.enqueue("auth.purge_expired_sessions")
    assert sessions_left(job_context) == 2  # nothing happens until a worker takes the message
    job_context.queue.start_consumer(threads=2, periodic=False)
    try:
        assert result.get(blocking=True, timeout=20) == 1
    finally:
        job_context.queue.stop_consumer()
    assert sessions_left(job_context) == 1


def test_periodic_jobs_run_once_per_slot_however_many_workers(job_context: TriplContext) -> None:
    periodic = job_context.queue._tasks["auth.purge_expired_sessions.hourly"]
    # Two workers' schedulers firing the same slot: the first claims it, the second skips.
    for _ in range(3):  # retry if the two calls straddled a minute boundary (two slots)
        slot = job_context.queue.huey._get_timestamp().strftime("%H%M")
        first, second = periodic.call_local(), periodic.call_local()
        if job_context.queue.huey._get_timestamp().strftime("%H%M") == slot:
            break
    assert first == 0 and second is None


def test_unknown_job_names_are_refused(job_context: TriplContext) -> None:
    with pytest.raises(KeyError):
        job_context.queue.enqueue("no.such.job")


def test_queue_url_must_be_supported(context: TriplContext) -> None:
    with pytest.raises(ValueError, match="unsupported queue URL"):
        JobQueue("amqp://localhost", context)
