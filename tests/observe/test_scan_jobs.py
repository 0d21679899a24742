"""Scan job lifecycle: run/list/get/cancel/replay/apply routes, the runner, and crash recovery.

Pipelines are stood in by small functions installed where the runner looks them up; they use
the real `JobControl` the runner gives them (progress, checkpoints, cancel) and write real
metric rows, so what is asserted is the runner's behaviour around them.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from tests.conftest import UserClientFactory
from tests.observe.scan_job_support import (
    add_job,
    clear_queue,
    drain_queue,
    install_all_refusing,
    install_pipeline,
    load_config,
    load_job,
    make_config,
    queued_run_ids,
    set_job,
)

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.metrics.models import CoveragePoint
from tripl.observe.scans import jobs
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJobKind, ScanJobStatus
from tripl.observe.scans.runtime import JobControl, ScanFailed
from tripl.observe.scans.scheduling import floor_bucket
from tripl.observe.warehouse.base import WarehouseUnreachable
from tripl.workspace.audit.models import AuditEntry

API = "/api/v1/projects/shop/scans"


@pytest.fixture(autouse=True)
def _clean_queue(context: TriplContext, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_queue(context)
    install_all_refusing(monkeypatch)


@pytest.fixture
def catalog_scan(context: TriplContext, project: dict[str, Any]) -> ScanConfig:
    return make_config(context, project["id"], time_column=None, interval=None)


@pytest.fixture
def monitoring_scan(context: TriplContext, project: dict[str, Any]) -> ScanConfig:
    return make_config(context, project["id"])


def write_bucket(ctx: TriplContext, config_id: uuid.UUID, bucket: datetime, count: int) -> None:
    """What a metrics pipeline records per bucket for scheduling: its coverage row, replaced when
    re-collected."""
    with ctx.db.transaction() as db:
        db.execute(
            delete(CoveragePoint).where(
                CoveragePoint.scan_config_id == config_id, CoveragePoint.bucket == bucket
            )
        )
        db.add(CoveragePoint(scan_config_id=config_id, bucket=bucket, total_count=count, matched_count=count))


def stored_buckets(ctx: TriplContext, config_id: uuid.UUID) -> list[datetime]:
    with ctx.db.sessions() as db:
        return list(
            db.scalars(
                select(CoveragePoint.bucket)
                .where(CoveragePoint.scan_config_id == config_id)
                .order_by(CoveragePoint.bucket)
            )
        )


def replay_hours(owner: TestClient, scan: ScanConfig, hours: int) -> tuple[datetime, dict[str, Any]]:
    """Ask for a replay of `hours` hours starting ten hours ago; its start and the job created."""
    start = floor_bucket(utcnow(), ScanInterval.h1) - timedelta(hours=10)
    window = {"time_from": start.isoformat(), "time_to": (start + timedelta(hours=hours)).isoformat()}
    response = owner.post(f"{API}/{scan.id}/metrics/replay", json=window)
    assert response.status_code == 201, response.text
    return start, response.json()


class ChunkedMetrics:
    """A metrics pipeline over the job window in 1h chunks: cancel checked and a checkpoint saved
    at every chunk boundary, resuming from the checkpoint. `after_chunk` lets a test act mid-run."""

    def __init__(self, ctx: TriplContext, after_chunk: Any = None) -> None:
        self.ctx = ctx
        self.after_chunk = after_chunk
        self.calls: list[dict[str, Any]] = []
        self.chunks: list[tuple[int, datetime]] = []  # (call number, chunk start)

    def __call__(
        self, ctx: TriplContext, config_id: uuid.UUID, control: JobControl, *, replay: bool
    ) -> dict[str, Any]:
        self.calls.append({"replay": replay, "from": control.time_from, "to": control.time_to})
        call = len(self.calls)
        assert control.time_from is not None and control.time_to is not None
        start = control.time_from
        if control.checkpoint:
            start = datetime.fromisoformat(control.checkpoint["next_chunk_from"])
        done = 0
        while start < control.time_to:
            if control.cancel_requested():
                return {"metric_chunks": done}
            write_bucket(ctx, config_id, start, 10)
            self.chunks.append((call, start))
            start += timedelta(hours=1)
            done += 1
            control.save_checkpoint({"next_chunk_from": start.isoformat()})
            control.progress(chunks_done=len(self.chunks))
            if self.after_chunk is not None:
                self.after_chunk(len(self.chunks), control)
        return {"metric_chunks": done, "details": ["metrics"]}


# --- routes: run, list, get -----------------------------------------------------------------------


def test_run_creates_a_pending_catalog_job_and_queues_it(
    editor: TestClient, catalog_scan: ScanConfig, context: TriplContext
) -> None:
    response = editor.post(f"{API}/{catalog_scan.id}/run")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending" and body["kind"] == "catalog" and body["trigger"] == "manual"
    assert body["scan_config_id"] == str(catalog_scan.id)
    assert body["started_at"] is None and body["completed_at"] is None and body["error_message"] is None
    assert queued_run_ids(context) == [body["id"]]
    with context.db.sessions() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == catalog_scan.id)))
    assert actions == ["scan.run"]


def test_a_second_run_while_one_is_active_is_a_conflict(editor: TestClient, catalog_scan: ScanConfig) -> None:
    assert editor.post(f"{API}/{catalog_scan.id}/run").status_code == 201
    second = editor.post(f"{API}/{catalog_scan.id}/run")
    assert second.status_code == 409
    assert "pending or running" in second.json()["detail"]
    assert len(editor.get(f"{API}/{catalog_scan.id}/jobs").json()) == 1


def test_the_database_refuses_a_second_active_job(context: TriplContext, catalog_scan: ScanConfig) -> None:
    # Two requests that both passed the "no active job" check: the unique index decides.
    from sqlalchemy.exc import IntegrityError

    add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.running)
    with pytest.raises(IntegrityError):
        add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)


def test_jobs_are_listed_newest_first_with_a_limit(
    viewer: TestClient, context: TriplContext, catalog_scan: ScanConfig
) -> None:
    base = utcnow() - timedelta(hours=5)
    ids = [
        add_job(
            context,
            catalog_scan,
            kind=ScanJobKind.catalog,
            status=ScanJobStatus.completed,
            created_at=base + timedelta(minutes=i),
        ).id
        for i in range(4)
    ]
    listed = viewer.get(f"{API}/{catalog_scan.id}/jobs")
    assert listed.status_code == 200
    assert [j["id"] for j in listed.json()] == [str(i) for i in reversed(ids)]
    limited = viewer.get(f"{API}/{catalog_scan.id}/jobs", params={"limit": 2})
    assert [j["id"] for j in limited.json()] == [str(ids[3]), str(ids[2])]
    assert viewer.get(f"{API}/{catalog_scan.id}/jobs", params={"limit": 0}).status_code == 422
    assert viewer.get(f"{API}/{catalog_scan.id}/jobs", params={"limit": 201}).status_code == 422
    one = viewer.get(f"{API}/{catalog_scan.id}/jobs/{ids[0]}")
    assert one.status_code == 200 and one.json()["status"] == "completed"


def test_configs_and_jobs_of_other_projects_are_not_found(
    owner: TestClient, editor: TestClient, context: TriplContext, catalog_scan: ScanConfig
) -> None:
    other_project = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    other_scan = make_config(context, other_project["id"], time_column=None, interval=None)
    other_job = add_job(context, other_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    assert editor.post(f"{API}/{other_scan.id}/run").status_code == 404
    assert editor.get(f"{API}/{other_scan.id}/jobs").status_code == 404
    # the job exists, but not under this scan
    assert editor.get(f"{API}/{catalog_scan.id}/jobs/{other_job.id}").status_code == 404
    assert editor.post(f"{API}/{catalog_scan.id}/jobs/{other_job.id}/cancel").status_code == 404
    assert editor.get(f"{API}/{uuid.uuid4()}/jobs").status_code == 404


def test_role_gates(
    viewer: TestClient, key_client: UserClientFactory, owner: TestClient, catalog_scan: ScanConfig
) -> None:
    job = owner.post(f"{API}/{catalog_scan.id}/run").json()
    read_key = key_client("owner", "read")
    for client in (viewer, read_key):
        assert client.post(f"{API}/{catalog_scan.id}/run").status_code == 403
        assert client.post(f"{API}/{catalog_scan.id}/event-groups/apply").status_code == 403
        assert client.post(f"{API}/{catalog_scan.id}/jobs/{job['id']}/cancel").status_code == 403
        assert client.get(f"{API}/{catalog_scan.id}/jobs").status_code == 200
        assert client.get(f"{API}/{catalog_scan.id}/jobs/{job['id']}").status_code == 200
    write_key = key_client("editor", "write")
    assert write_key.post(f"{API}/{catalog_scan.id}/jobs/{job['id']}/cancel").status_code == 200


# --- the runner ------------------------------------------------------------------------------------


def test_a_catalog_job_runs_with_progress_visible_while_it_runs(
    monkeypatch: pytest.MonkeyPatch,
    editor: TestClient,
    viewer: TestClient,
    context: TriplContext,
    catalog_scan: ScanConfig,
) -> None:
    seen_mid_run: list[dict[str, Any]] = []

    def catalog(ctx: TriplContext, config_id: uuid.UUID, control: JobControl, **_: Any) -> dict[str, Any]:
        assert config_id == catalog_scan.id and control.time_from is None and control.time_to is None
        control.progress(events_created=2, columns_analyzed=5)
        seen_mid_run.append(viewer.get(f"{API}/{config_id}/jobs/{control.job_id}").json())
        return {"events_created": 3, "events_skipped": 1, "details": ["catalog"]}

    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    job = editor.post(f"{API}/{catalog_scan.id}/run").json()
    assert drain_queue(context) == ["completed"]

    assert seen_mid_run[0]["status"] == "running"
    assert seen_mid_run[0]["started_at"] is not None
    assert seen_mid_run[0]["result_summary"] == {"events_created": 2, "columns_analyzed": 5}
    final = editor.get(f"{API}/{catalog_scan.id}/jobs/{job['id']}").json()
    assert final["status"] == "completed" and final["error_message"] is None
    summary = final["result_summary"]
    assert summary["events_created"] == 3 and summary["events_skipped"] == 1
    assert summary["columns_analyzed"] == 5  # progress counters the result did not replace stay
    assert summary["mode"] == "catalog" and summary["details"] == ["catalog"]
    assert summary["duration_seconds"] >= 0 and "catalog_seconds" in summary
    assert final["completed_at"] >= final["started_at"]
    assert final["attempts"] == 1


def test_a_manual_run_of_a_monitoring_scan_also_collects_metrics(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, editor: TestClient, monitoring_scan: ScanConfig
) -> None:
    order: list[str] = []

    def catalog(ctx: TriplContext, config_id: uuid.UUID, control: JobControl, **_: Any) -> dict[str, Any]:
        order.append("catalog")
        return {"events_created": 1, "details": ["catalog"]}

    metrics = ChunkedMetrics(context)
    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    install_pipeline(
        monkeypatch, jobs.METRICS_PIPELINE, lambda *a, **k: (order.append("metrics"), metrics(*a, **k))[1]
    )
    now = utcnow()
    last_complete = floor_bucket(now, ScanInterval.h1)
    write_bucket(context, monitoring_scan.id, last_complete - timedelta(hours=3), 5)  # collected up to -2h

    job = editor.post(f"{API}/{monitoring_scan.id}/run").json()
    clear_queue(context)
    assert jobs.run_job(context, uuid.UUID(job["id"]), now=now) == ScanJobStatus.completed

    assert order == ["catalog", "metrics"]
    # from the last collected bucket, overlapping it once, to the last complete bucket
    assert metrics.calls == [
        {"replay": False, "from": last_complete - timedelta(hours=3), "to": last_complete}
    ]
    row = load_job(context, job["id"])
    assert (row.time_from, row.time_to) == (last_complete - timedelta(hours=3), last_complete)
    summary = row.result_summary or {}
    assert summary["events_created"] == 1 and summary["metric_chunks"] == 3
    assert summary["details"] == ["catalog", "metrics"]
    assert summary["time_to"] == last_complete.isoformat()


def test_a_first_manual_run_collects_the_last_30_buckets(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, monitoring_scan: ScanConfig
) -> None:
    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, lambda *a, **k: {})
    windows: list[tuple[Any, Any]] = []
    install_pipeline(
        monkeypatch,
        jobs.METRICS_PIPELINE,
        lambda ctx, cid, control, replay: windows.append((control.time_from, control.time_to)) or {},
    )
    job = add_job(context, monitoring_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    now = datetime(2026, 3, 4, 10, 25, tzinfo=UTC)
    assert jobs.run_job(context, job.id, now=now) == ScanJobStatus.completed
    assert windows == [(datetime(2026, 3, 3, 4, tzinfo=UTC), datetime(2026, 3, 4, 10, tzinfo=UTC))]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ScanFailed("Scan reached the configured row limit (50000); increase scan_row_limit"),
            "Scan reached the configured row limit (50000); increase scan_row_limit",
        ),
        (
            WarehouseUnreachable(
                "could not connect to postgresql://bob:hunter2@db.internal:5432/x\n  (password=hunter2)"
            ),
            "Scan failed: could not connect to postgresql://***@db.internal:5432/x (password=***",
        ),
    ],
)
def test_failure_messages_users_can_act_on(
    monkeypatch: pytest.MonkeyPatch,
    context: TriplContext,
    catalog_scan: ScanConfig,
    error: Exception,
    expected: str,
) -> None:
    def catalog(ctx: TriplContext, config_id: uuid.UUID, control: JobControl, **_: Any) -> dict[str, Any]:
        control.progress(rows_read=7)
        raise error

    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    job = add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    assert jobs.run_job(context, job.id) == ScanJobStatus.failed
    row = load_job(context, job.id)
    assert row.status == ScanJobStatus.failed and row.completed_at is not None
    assert row.error_message is not None and row.error_message.startswith(expected)
    assert "hunter2" not in row.error_message
    assert (row.result_summary or {}).get("rows_read") == 7  # what was reported before failing stays


def test_an_unexpected_error_is_reported_generically_with_a_reference(
    monkeypatch: pytest.MonkeyPatch,
    context: TriplContext,
    catalog_scan: ScanConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def catalog(ctx: TriplContext, config_id: uuid.UUID, control: JobControl, **_: Any) -> dict[str, Any]:
        raise KeyError("internal_table_secret_detail")

    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    job = add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    assert jobs.run_job(context, job.id) == ScanJobStatus.failed
    row = load_job(context, job.id)
    assert row.error_message == f"Scan failed due to an internal error (reference {job.id})"
    assert "internal_table_secret_detail" in caplog.text  # the traceback goes to the log only


def test_a_worker_torn_down_mid_job_hands_the_job_back(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, catalog_scan: ScanConfig
) -> None:
    def catalog(ctx: TriplContext, config_id: uuid.UUID, control: JobControl, **_: Any) -> dict[str, Any]:
        raise SystemExit(1)

    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    job = add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    with pytest.raises(SystemExit):
        jobs.run_job(context, job.id)
    row = load_job(context, job.id)
    assert row.status == ScanJobStatus.pending and row.attempts == 1


def test_a_duplicate_queue_message_does_not_run_the_job_twice(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, editor: TestClient, catalog_scan: ScanConfig
) -> None:
    runs: list[uuid.UUID] = []
    install_pipeline(
        monkeypatch, jobs.CATALOG_PIPELINE, lambda ctx, cid, control, **_: runs.append(control.job_id) or {}
    )
    job = editor.post(f"{API}/{catalog_scan.id}/run").json()
    context.queue.enqueue("scans.run_job", job_id=job["id"])  # e.g. re-sent by the reaper
    assert drain_queue(context) == ["completed", None]
    assert runs == [uuid.UUID(job["id"])]


# --- cancel ----------------------------------------------------------------------------------------


def test_a_cancelled_pending_job_never_starts(
    monkeypatch: pytest.MonkeyPatch, editor: TestClient, context: TriplContext, catalog_scan: ScanConfig
) -> None:
    job = editor.post(f"{API}/{catalog_scan.id}/run").json()
    cancelled = editor.post(f"{API}/{catalog_scan.id}/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["completed_at"] is not None
    assert drain_queue(context) == [None]  # the message arrives; the refusing pipelines are not called
    assert load_job(context, job["id"]).status == ScanJobStatus.cancelled
    assert load_job(context, job["id"]).started_at is None
    # a new run may start now
    assert editor.post(f"{API}/{catalog_scan.id}/run").status_code == 201
    with context.db.sessions() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
    assert "scan_job.cancel" in actions


@pytest.mark.parametrize(
    ("hours", "cancel_after"), [(5, 2), (3, 3)], ids=["at-the-next-chunk", "after-the-last-chunk"]
)
def test_cancelling_a_running_replay_ends_it_cancelled_and_keeps_what_was_written(
    monkeypatch: pytest.MonkeyPatch,
    owner: TestClient,
    editor: TestClient,
    context: TriplContext,
    monitoring_scan: ScanConfig,
    hours: int,
    cancel_after: int,
) -> None:
    """A cancel mid-run stops the replay at the next chunk; one after its last chunk still ends it
    cancelled, with every chunk kept."""
    cancel_answers: list[dict[str, Any]] = []

    def user_cancels(chunks_done: int, control: JobControl) -> None:
        if chunks_done == cancel_after:
            url = f"{API}/{monitoring_scan.id}/jobs/{control.job_id}/cancel"
            cancel_answers.append(editor.post(url).json())

    metrics = ChunkedMetrics(context, after_chunk=user_cancels)
    install_pipeline(monkeypatch, jobs.METRICS_PIPELINE, metrics)
    start, job = replay_hours(owner, monitoring_scan, hours)
    assert drain_queue(context) == ["cancelled"]

    assert cancel_answers[0]["status"] == "running" and cancel_answers[0]["cancel_requested"] is True
    row = load_job(context, job["id"])
    assert row.status == ScanJobStatus.cancelled and row.completed_at is not None
    written = [start + timedelta(hours=h) for h in range(cancel_after)]
    assert stored_buckets(context, monitoring_scan.id) == written
    assert row.checkpoint is not None
    next_from = start + timedelta(hours=cancel_after)
    assert row.checkpoint["metrics"] == {"next_chunk_from": next_from.isoformat()}
    assert (row.result_summary or {})["chunks_done"] == cancel_after
    assert metrics.calls[0]["replay"] is True


def test_a_finished_job_records_its_last_phase_as_done_with_its_outcome(
    monkeypatch: pytest.MonkeyPatch, owner: TestClient, context: TriplContext, monitoring_scan: ScanConfig
) -> None:
    install_pipeline(monkeypatch, jobs.METRICS_PIPELINE, ChunkedMetrics(context))
    _, job = replay_hours(owner, monitoring_scan, 2)
    assert drain_queue(context) == ["completed"]

    row = load_job(context, job["id"])
    assert row.checkpoint is not None and row.checkpoint["done"] == ["metrics"]
    assert (row.result_summary or {})["metric_chunks"] == 2 and row.completed_at is not None


@pytest.mark.parametrize("final", [ScanJobStatus.completed, ScanJobStatus.failed, ScanJobStatus.cancelled])
def test_only_active_jobs_can_be_cancelled(
    editor: TestClient, context: TriplContext, catalog_scan: ScanConfig, final: ScanJobStatus
) -> None:
    job = add_job(context, catalog_scan, kind=ScanJobKind.catalog, status=final, completed_at=utcnow())
    response = editor.post(f"{API}/{catalog_scan.id}/jobs/{job.id}/cancel")
    assert response.status_code == 409
    assert final.value in response.json()["detail"]
    assert load_job(context, job.id).status == final


# --- worker crash ----------------------------------------------------------------------------------


def test_a_job_whose_worker_died_is_resumed_from_its_checkpoint_and_runs_once(
    monkeypatch: pytest.MonkeyPatch, owner: TestClient, context: TriplContext, monitoring_scan: ScanConfig
) -> None:
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 3600.0)  # the "dead" worker must not beat
    reached_chunk_two, wake_dead_worker = threading.Event(), threading.Event()

    def first_worker_hangs_after_two_chunks(chunks_done: int, control: JobControl) -> None:
        if len(metrics.calls) == 1 and chunks_done == 2:
            reached_chunk_two.set()
            wake_dead_worker.wait(timeout=30)

    metrics = ChunkedMetrics(context, after_chunk=first_worker_hangs_after_two_chunks)
    install_pipeline(monkeypatch, jobs.METRICS_PIPELINE, metrics)
    start, job = replay_hours(owner, monitoring_scan, 4)
    clear_queue(context)

    first_result: list[Any] = []
    first = threading.Thread(target=lambda: first_result.append(jobs.run_job(context, uuid.UUID(job["id"]))))
    first.start()
    assert reached_chunk_two.wait(timeout=30)
    # Its process is gone as far as anyone can tell: no heartbeat for longer than STALE_AFTER.
    set_job(context, job["id"], heartbeat_at=utcnow() - jobs.STALE_AFTER - timedelta(minutes=1))

    assert jobs.reap_stale_jobs(context) == {"requeued": 1, "failed": 0, "cancelled": 0, "resent": 0}
    assert load_job(context, job["id"]).status == ScanJobStatus.pending
    assert queued_run_ids(context) == [job["id"]]
    assert drain_queue(context) == ["completed"]

    wake_dead_worker.set()  # the old worker comes back: it must notice it lost the job and stop
    first.join(timeout=30)
    assert first_result == [None]

    row = load_job(context, job["id"])
    assert row.status == ScanJobStatus.completed and row.attempts == 2
    hours = [start + timedelta(hours=i) for i in range(4)]
    assert metrics.chunks == [(1, hours[0]), (1, hours[1]), (2, hours[2]), (2, hours[3])]
    assert stored_buckets(context, monitoring_scan.id) == hours


def test_a_job_that_keeps_killing_its_worker_fails_after_three_attempts(
    context: TriplContext, monitoring_scan: ScanConfig
) -> None:
    old = utcnow() - jobs.STALE_AFTER - timedelta(minutes=1)
    job = add_job(
        context,
        monitoring_scan,
        kind=ScanJobKind.collect,
        trigger="schedule",
        status=ScanJobStatus.running,
        attempts=3,
        heartbeat_at=old,
    )
    assert jobs.reap_stale_jobs(context)["failed"] == 1
    row = load_job(context, job.id)
    assert row.status == ScanJobStatus.failed
    assert row.error_message is not None and "worker stopped responding" in row.error_message
    assert load_config(context, monitoring_scan.id).consecutive_failures == 1
    assert queued_run_ids(context) == []


def test_the_reaper_leaves_live_jobs_alone_and_resends_lost_messages(
    context: TriplContext, project: dict[str, Any]
) -> None:
    now = utcnow()
    configs = [make_config(context, project["id"], time_column=None, interval=None) for _ in range(4)]
    live = add_job(
        context,
        configs[0],
        kind=ScanJobKind.catalog,
        status=ScanJobStatus.running,
        attempts=1,
        heartbeat_at=now - timedelta(minutes=2),
    )
    fresh = add_job(context, configs[1], kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    lost = add_job(context, configs[2], kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    set_job(context, lost.id, updated_at=now - jobs.LOST_MESSAGE_AFTER - timedelta(minutes=1))
    dead_cancelled = add_job(
        context,
        configs[3],
        kind=ScanJobKind.catalog,
        status=ScanJobStatus.running,
        attempts=1,
        cancel_requested=True,
        heartbeat_at=now - jobs.STALE_AFTER - timedelta(minutes=1),
    )
    assert jobs.reap_stale_jobs(context) == {"requeued": 0, "failed": 0, "cancelled": 1, "resent": 1}
    assert queued_run_ids(context) == [str(lost.id)]
    assert load_job(context, live.id).status == ScanJobStatus.running
    assert load_job(context, fresh.id).status == ScanJobStatus.pending
    assert load_job(context, dead_cancelled.id).status == ScanJobStatus.cancelled


# --- replay ----------------------------------------------------------------------------------------


def test_replay_is_owner_only(
    editor: TestClient, viewer: TestClient, key_client: UserClientFactory, monitoring_scan: ScanConfig
) -> None:
    start = floor_bucket(utcnow(), ScanInterval.h1) - timedelta(hours=5)
    body = {"time_from": start.isoformat(), "time_to": (start + timedelta(hours=1)).isoformat()}
    url = f"{API}/{monitoring_scan.id}/metrics/replay"
    for client in (editor, viewer, key_client("owner", "read"), key_client("editor", "write")):
        assert client.post(url, json=body).status_code == 403
    assert key_client("owner", "write").post(url, json=body).status_code == 201


def test_replay_validation(owner: TestClient, context: TriplContext, project: dict[str, Any]) -> None:
    monitoring = make_config(context, project["id"])
    catalog_only = make_config(context, project["id"], time_column=None, interval=None)
    start = floor_bucket(utcnow(), ScanInterval.h1) - timedelta(hours=5)
    body = {"time_from": start.isoformat(), "time_to": (start + timedelta(hours=1)).isoformat()}

    backwards = owner.post(
        f"{API}/{monitoring.id}/metrics/replay",
        json={"time_from": body["time_to"], "time_to": body["time_from"]},
    )
    assert backwards.status_code == 422
    assert "time_to must be later than time_from" in str(backwards.json()["detail"])
    equal = {"time_from": body["time_from"], "time_to": body["time_from"]}
    assert owner.post(f"{API}/{monitoring.id}/metrics/replay", json=equal).status_code == 422
    missing = owner.post(f"{API}/{monitoring.id}/metrics/replay", json={"time_from": body["time_from"]})
    assert missing.status_code == 422

    not_monitoring = owner.post(f"{API}/{catalog_only.id}/metrics/replay", json=body)
    assert not_monitoring.status_code == 400
    assert "time_column and interval" in not_monitoring.json()["detail"]

    current = floor_bucket(utcnow(), ScanInterval.h1)
    incomplete = {
        "time_from": (current + timedelta(minutes=1)).isoformat(),
        "time_to": (current + timedelta(hours=2)).isoformat(),
    }
    refused = owner.post(f"{API}/{monitoring.id}/metrics/replay", json=incomplete)
    assert refused.status_code == 400 and "no completed 1h bucket" in refused.json()["detail"]
    assert owner.get(f"{API}/{monitoring.id}/jobs").json() == []


def test_replay_snaps_to_the_grid_and_stops_before_the_current_bucket(
    owner: TestClient, context: TriplContext, monitoring_scan: ScanConfig
) -> None:
    current = floor_bucket(utcnow(), ScanInterval.h1)
    inner_from = current - timedelta(hours=6, minutes=-20)  # 20 minutes into a bucket
    naive_from = inner_from.replace(tzinfo=None).isoformat()  # naive means UTC
    response = owner.post(
        f"{API}/{monitoring_scan.id}/metrics/replay",
        json={"time_from": naive_from, "time_to": (current + timedelta(hours=3)).isoformat()},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "replay" and body["status"] == "pending"
    assert datetime.fromisoformat(body["time_from"]) == current - timedelta(hours=6)
    assert datetime.fromisoformat(body["time_to"]) == current

    # a window ending mid-bucket is widened to the whole bucket
    monitoring_daily = make_config(context, monitoring_scan.project_id, interval=ScanInterval.d1)
    day = floor_bucket(utcnow(), ScanInterval.d1) - timedelta(days=10)
    widened = owner.post(
        f"{API}/{monitoring_daily.id}/metrics/replay",
        json={
            "time_from": (day + timedelta(hours=5)).isoformat(),
            "time_to": (day + timedelta(days=2, hours=1)).isoformat(),
        },
    ).json()
    assert datetime.fromisoformat(widened["time_from"]) == day
    assert datetime.fromisoformat(widened["time_to"]) == day + timedelta(days=3)


def test_a_replay_while_a_job_is_active_is_a_conflict(owner: TestClient, monitoring_scan: ScanConfig) -> None:
    assert owner.post(f"{API}/{monitoring_scan.id}/run").status_code == 201
    start = floor_bucket(utcnow(), ScanInterval.h1) - timedelta(hours=5)
    body = {"time_from": start.isoformat(), "time_to": (start + timedelta(hours=1)).isoformat()}
    assert owner.post(f"{API}/{monitoring_scan.id}/metrics/replay", json=body).status_code == 409


# --- apply event groups ----------------------------------------------------------------------------


def test_applying_event_groups_without_rules_fails_the_job_with_a_clear_message(
    editor: TestClient, context: TriplContext, catalog_scan: ScanConfig
) -> None:
    response = editor.post(f"{API}/{catalog_scan.id}/event-groups/apply")
    assert response.status_code == 201 and response.json()["kind"] == "apply_groups"
    assert drain_queue(context) == ["failed"]
    row = load_job(context, response.json()["id"])
    assert row.error_message == jobs.NO_GROUP_RULES_MESSAGE


def test_applying_event_groups_runs_the_groups_pipeline(
    monkeypatch: pytest.MonkeyPatch, editor: TestClient, context: TriplContext, project: dict[str, Any]
) -> None:
    rules = [
        {
            "name": "screen_view",
            "condition_logic": "all",
            "conditions": [{"field": "event_name", "pattern": "^screen"}],
        }
    ]
    config = make_config(context, project["id"], time_column=None, interval=None, event_group_rules=rules)
    install_pipeline(
        monkeypatch, jobs.GROUPS_PIPELINE, lambda ctx, cid, control: {"events_merged": 4, "groups": 1}
    )
    response = editor.post(f"{API}/{config.id}/event-groups/apply")
    assert response.status_code == 201
    assert drain_queue(context) == ["completed"]
    summary = load_job(context, response.json()["id"]).result_summary or {}
    assert summary["events_merged"] == 4 and summary["mode"] == "apply_groups"
    with context.db.sessions() as db:
        count = db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "scan.apply_event_groups")
        )
    assert count == 1
