from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import UserClientFactory
from tests.observe.observe_support import create_source, duckdb_source, make_duckdb, make_pg_warehouse

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.scans.models import ScanJobStatus, ScanPreviewJob
from tripl.observe.scans.preview import STALE_MESSAGE, discover_json_paths, json_safe, sweep

PREVIEW = "/api/v1/projects/shop/scans/preview"
JOBS = "/api/v1/projects/shop/scans/preview-jobs"
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

EVENTS_TABLE = [
    "CREATE TABLE events (id INTEGER, name VARCHAR, amount DECIMAL(10, 2), created_at TIMESTAMP, "
    "props JSON, raw BLOB)",
    "INSERT INTO events VALUES "
    f"(1, 'home', 12.50, TIMESTAMP '{NOW - dt.timedelta(hours=1)}', "
    """'{"screen": {"name": "home", "depth": 1}, "kind": "view"}', 'abc'), """
    f"(2, 'cart', 3.00, TIMESTAMP '{NOW - dt.timedelta(hours=2)}', "
    """'{"screen": {"name": "cart"}, "items": [1, 2]}', NULL), """
    f"(3, 'old', 1.00, TIMESTAMP '{NOW - dt.timedelta(hours=100)}', NULL, NULL)",
]


def run_previews(ctx: TriplContext) -> list[Any]:
    """Be a worker: run the queued preview messages (stale messages of other jobs are dropped)."""
    results = []
    while (task := ctx.queue.huey.dequeue()) is not None:
        if task.name == "scans.preview":
            results.append(task.execute())
    return results


@pytest.fixture
def warehouse(owner: TestClient, project: dict[str, Any], context: TriplContext) -> dict[str, Any]:
    context.queue.huey.storage.flush_queue()
    return duckdb_source(owner, make_duckdb(context, EVENTS_TABLE))


def start(client: TestClient, source: dict[str, Any], **values: Any) -> dict[str, Any]:
    body = {"data_source_id": source["id"], "base_query": "SELECT * FROM events ORDER BY id", **values}
    response = client.post(PREVIEW, json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_preview_is_queued_then_completed_by_the_worker(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext
) -> None:
    job = start(owner, warehouse, limit=2, include_json_paths=True)
    assert job["status"] == "pending"
    assert job["result_summary"] is None and job["started_at"] is None
    assert owner.get(f"{JOBS}/{job['id']}").json()["status"] == "pending"

    assert run_previews(context) == ["completed"]
    done = owner.get(f"{JOBS}/{job['id']}").json()
    assert done["status"] == "completed", done
    assert done["started_at"] and done["completed_at"] and done["error_message"] is None
    summary = done["result_summary"]
    assert [(c["name"], c["type_name"]) for c in summary["columns"]] == [
        ("id", "INTEGER"),
        ("name", "VARCHAR"),
        ("amount", "DECIMAL(10,2)"),
        ("created_at", "TIMESTAMP"),
        ("props", "JSON"),
        ("raw", "BLOB"),
    ]
    assert all(isinstance(c["is_nullable"], bool) for c in summary["columns"])
    first, second = summary["rows"]
    assert first == {
        "id": 1,
        "name": "home",
        "amount": 12.5,
        "created_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        "props": {"screen": {"name": "home", "depth": 1}, "kind": "view"},
        "raw": "abc",
    }
    assert second["raw"] is None and second["amount"] == 3
    assert summary["json_columns"] == [
        {
            "column": "props",
            "paths": [
                {"full_path": "props.screen.name", "path": "screen.name", "sample_values": ["home", "cart"]},
                {"full_path": "props.screen.depth", "path": "screen.depth", "sample_values": [1]},
                {"full_path": "props.kind", "path": "kind", "sample_values": ["view"]},
                {"full_path": "props.items", "path": "items", "sample_values": ["[1,2]"]},
            ],
        }
    ]


def test_json_paths_only_when_asked(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext
) -> None:
    job = start(owner, warehouse)
    run_previews(context)
    summary = owner.get(f"{JOBS}/{job['id']}").json()["result_summary"]
    assert summary["json_columns"] == []
    assert [row["id"] for row in summary["rows"]] == [1, 2, 3]  # default limit 10


def test_lookback_window_limits_rows_by_time(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext
) -> None:
    job = start(owner, warehouse, time_column="created_at", scan_lookback_hours=24)
    run_previews(context)
    summary = owner.get(f"{JOBS}/{job['id']}").json()["result_summary"]
    assert sorted(row["id"] for row in summary["rows"]) == [1, 2]


def test_warehouse_errors_fail_the_job_with_a_message(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext
) -> None:
    job = start(owner, warehouse, base_query="SELECT missing_column FROM events")
    assert run_previews(context) == ["failed"]
    failed = owner.get(f"{JOBS}/{job['id']}").json()
    assert failed["status"] == "failed" and failed["result_summary"] is None
    assert (
        failed["error_message"].startswith("Preview failed: ") and "missing_column" in failed["error_message"]
    )


def test_preview_on_postgres_with_jsonb(
    owner: TestClient, project: dict[str, Any], context: TriplContext, pg_database_factory: Callable[[], str]
) -> None:
    context.queue.huey.storage.flush_queue()
    database = make_pg_warehouse(
        pg_database_factory,
        [
            "CREATE TABLE clicks (id bigint NOT NULL, at timestamptz, payload jsonb, price numeric(8,2))",
            """INSERT INTO clicks VALUES (7, '2026-01-02T03:04:05Z', '{"button": {"id": "buy"}}', 9.99)""",
        ],
    )
    source = create_source(owner, host="127.0.0.1", port=5432, username="postgres", database_name=database)
    job = start(
        owner, source, base_query="SELECT id, at, payload, price FROM clicks", include_json_paths=True
    )
    assert run_previews(context) == ["completed"]
    summary = owner.get(f"{JOBS}/{job['id']}").json()["result_summary"]
    assert summary["rows"] == [
        {"id": 7, "at": "2026-01-02T03:04:05+00:00", "payload": {"button": {"id": "buy"}}, "price": 9.99}
    ]
    types = {c["name"]: c["type_name"] for c in summary["columns"]}
    assert list(types) == ["id", "at", "payload", "price"]
    assert (types["id"], types["payload"], types["price"]) == ("int8", "jsonb", "numeric(8,2)")
    assert summary["json_columns"][0]["paths"] == [
        {"full_path": "payload.button.id", "path": "button.id", "sample_values": ["buy"]}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_query": "DELETE FROM events"}, "base_query"),
        ({"base_query": " "}, "base_query"),
        ({"data_source_id": str(uuid.uuid4())}, "data_source_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"scan_lookback_hours": 0}, "scan_lookback_hours"),
        ({"json_value_paths": ["props"]}, "json_value_paths"),
    ],
)
def test_invalid_previews_are_refused_before_queueing(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext, change: dict[str, Any], field: str
) -> None:
    body = {"data_source_id": warehouse["id"], "base_query": "SELECT 1", **change}
    response = owner.post(PREVIEW, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ScanPreviewJob)) == 0
    assert context.queue.huey.pending_count() == 0


def test_previews_are_owner_only_and_fenced_by_project(
    owner: TestClient,
    editor: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    warehouse: dict[str, Any],
) -> None:
    job = start(owner, warehouse)
    body = {"data_source_id": warehouse["id"], "base_query": "SELECT 1"}
    for client in (editor, viewer, key_client("owner", "read")):
        assert client.post(PREVIEW, json=body).status_code == 403
    for client in (editor, viewer):
        assert client.get(f"{JOBS}/{job['id']}").status_code == 403
    assert key_client("owner", "read").get(f"{JOBS}/{job['id']}").status_code == 200
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    assert owner.get(f"/api/v1/projects/other/scans/preview-jobs/{job['id']}").status_code == 404
    assert owner.get(f"{JOBS}/{uuid.uuid4()}").status_code == 404


def test_a_queue_refusing_the_message_fails_the_job_visibly(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(name: str, **kwargs: Any) -> None:
        raise ConnectionError("queue down")

    monkeypatch.setattr(context.queue, "enqueue", refuse)
    job = start(owner, warehouse)
    assert job["status"] == "failed" and "could not be queued" in job["error_message"]
    assert owner.get(f"{JOBS}/{job['id']}").json()["status"] == "failed"


def test_sweep_fails_lost_previews_and_forgets_old_ones(
    owner: TestClient, warehouse: dict[str, Any], context: TriplContext
) -> None:
    lost, done, fresh = (start(owner, warehouse) for _ in range(3))
    context.queue.huey.storage.flush_queue()  # the worker never sees them
    now = utcnow()
    with context.db.transaction() as db:
        for job, age, status in (
            (lost, timedelta(hours=1), ScanJobStatus.running),
            (done, timedelta(days=8), ScanJobStatus.completed),
            (fresh, timedelta(minutes=1), ScanJobStatus.pending),
        ):
            row = db.get(ScanPreviewJob, uuid.UUID(job["id"]))
            assert row is not None
            row.created_at, row.status = now - age, status
    assert sweep(context, now) == (1, 1)
    swept = owner.get(f"{JOBS}/{lost['id']}").json()
    assert (swept["status"], swept["error_message"]) == ("failed", STALE_MESSAGE)
    assert owner.get(f"{JOBS}/{done['id']}").status_code == 404
    assert owner.get(f"{JOBS}/{fresh['id']}").json()["status"] == "pending"


# ---------------------------------------------------------------------------------------------
# Pure helpers


def test_json_safe_values() -> None:
    assert json_safe(decimal.Decimal("2.50")) == 2.5
    assert json_safe(decimal.Decimal("7")) == 7 and isinstance(json_safe(decimal.Decimal("7")), int)
    assert json_safe(dt.date(2026, 1, 2)) == "2026-01-02"
    assert json_safe(dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)) == "2026-01-02T03:00:00+00:00"
    assert json_safe(b"text") == "text"
    assert json_safe(b"\xff\xfe") == "//4="  # not UTF-8: base64
    assert json_safe(float("nan")) == "nan"
    assert json_safe(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert json_safe({"a": [decimal.Decimal("1.5")]}) == {"a": [1.5]}


def test_json_paths_are_capped() -> None:
    rows = [{"doc": {f"k{i}": i % 5 for i in range(600)}}, {"doc": {f"m{i}": 1 for i in range(600)}}]
    rows += [{"doc": '{"k0": "as text"}'}, {"doc": "not json"}, {"doc": None}]
    (found,) = discover_json_paths(["doc"], rows)
    assert len(found["paths"]) == 1000
    assert found["paths"][0] == {"full_path": "doc.k0", "path": "k0", "sample_values": [0, "as text"]}
    samples = discover_json_paths(["doc"], [{"doc": {"a": n}} for n in range(10)])[0]["paths"][0]
    assert samples["sample_values"] == [0, 1, 2]
    two = discover_json_paths(["a", "b"], [{"a": {f"x{i}": 1 for i in range(999)}, "b": {"y": 1, "z": 2}}])
    assert [len(c["paths"]) for c in two] == [999, 1]
