from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import UserClientFactory
from tests.observe.metric_support import put_points
from tests.observe.observe_support import (
    DATA_SOURCES,
    create_source,
    duckdb_source,
    make_duckdb,
    make_pg_warehouse,
    warehouses_dir,
)
from tests.plan.factories import make_event, make_event_type

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics.models import MetricScopeType
from tripl.observe.scans.models import ScanConfig
from tripl.workspace.audit.models import AuditEntry

CONTRACT_FIELDS = {
    "id",
    "name",
    "db_type",
    "host",
    "port",
    "database_name",
    "username",
    "password_set",
    "timeout_seconds",
    "extra_params",
    "last_test_at",
    "last_test_status",
    "last_test_message",
    "created_at",
    "updated_at",
}


def stored(ctx: TriplContext, ds_id: str) -> DataSource:
    with ctx.db.sessions() as db:
        row = db.get(DataSource, uuid.UUID(ds_id))
        assert row is not None
        return row


def test_owner_creates_a_source_that_everyone_can_read(
    owner: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    created = create_source(
        owner,
        name="Warehouse",
        username="reader",
        password="s3cret-pw",
        extra_params={"sslmode": "require", "credentials_json": '{"k": "v"}', "private_key": "-----BEGIN"},
    )
    assert set(created) >= CONTRACT_FIELDS
    assert "password" not in created
    assert created["password_set"] is True
    assert created["extra_params"] == {"sslmode": "require"}
    assert created["secret_params_set"] == ["credentials_json", "private_key"]
    assert created["last_test_status"] is None and created["timeout_seconds"] is None

    listed = viewer.get(DATA_SOURCES)
    assert listed.status_code == 200
    assert [ds["name"] for ds in listed.json()] == ["Warehouse"]
    assert viewer.get(f"{DATA_SOURCES}/{created['id']}").json() == created
    assert "s3cret" not in listed.text and "BEGIN" not in listed.text

    minimal = owner.post(
        DATA_SOURCES,
        json={"name": "CH", "db_type": "clickhouse", "host": "ch.internal", "database_name": "x"},
    ).json()
    assert (minimal["port"], minimal["username"], minimal["password_set"]) == (8123, "", False)
    assert minimal["extra_params"] is None and minimal["secret_params_set"] == []


def test_secrets_are_encrypted_at_rest(owner: TestClient, context: TriplContext) -> None:
    created = create_source(
        owner, password="s3cret-pw", extra_params={"api_token": "tok-123", "location": "EU"}
    )
    row = stored(context, created["id"])
    assert row.password_encrypted and "s3cret" not in row.password_encrypted
    assert context.cipher.decrypt(row.password_encrypted) == "s3cret-pw"
    assert row.secret_params_encrypted and "tok-123" not in row.secret_params_encrypted
    assert "tok-123" in context.cipher.decrypt(row.secret_params_encrypted)
    assert row.extra_params == {"location": "EU"}


def test_password_is_kept_unless_a_string_is_sent(owner: TestClient, context: TriplContext) -> None:
    ds = create_source(owner, password="first")
    url = f"{DATA_SOURCES}/{ds['id']}"

    assert owner.patch(url, json={"username": "u2"}).json()["password_set"] is True
    assert owner.patch(url, json={"password": None}).json()["password_set"] is True
    row = stored(context, ds["id"])
    assert row.username == "u2" and context.cipher.decrypt(row.password_encrypted or "") == "first"

    assert owner.patch(url, json={"password": "second"}).json()["password_set"] is True
    assert context.cipher.decrypt(stored(context, ds["id"]).password_encrypted or "") == "second"

    cleared = owner.patch(url, json={"password": ""}).json()
    assert cleared["password_set"] is False
    assert stored(context, ds["id"]).password_encrypted is None


def test_secret_extra_params_change_only_when_named(owner: TestClient, context: TriplContext) -> None:
    ds = create_source(
        owner, db_type="bigquery", extra_params={"service_account_json": "{}", "location": "EU"}
    )
    url = f"{DATA_SOURCES}/{ds['id']}"

    # Sending back what GET shows (no secrets) keeps the stored secret.
    kept = owner.patch(url, json={"extra_params": {"location": "US"}}).json()
    assert kept["extra_params"] == {"location": "US"} and kept["secret_params_set"] == [
        "service_account_json"
    ]

    added = owner.patch(url, json={"extra_params": {"location": "US", "client_secret": "abc"}}).json()
    assert added["secret_params_set"] == ["client_secret", "service_account_json"]

    removed = owner.patch(url, json={"extra_params": {"service_account_json": None, "client_secret": ""}})
    assert removed.json()["secret_params_set"] == [] and removed.json()["extra_params"] == {}
    assert stored(context, ds["id"]).secret_params_encrypted is None

    assert owner.patch(url, json={"extra_params": None}).json()["extra_params"] is None

    # A secret value may be an object; a secret key nested inside a plain one is refused, not shown.
    as_object = owner.patch(url, json={"extra_params": {"service_account_json": {"private_key": "k"}}})
    assert as_object.json()["secret_params_set"] == ["service_account_json"]
    nested = owner.patch(url, json={"extra_params": {"auth": {"password": "p"}}})
    assert nested.status_code == 422 and nested.json()["detail"][0]["loc"] == ["body", "extra_params"]
    assert owner.get(url).json()["extra_params"] == {}


def test_names_are_unique(owner: TestClient) -> None:
    create_source(owner, name="Main")
    other = create_source(owner, name="Other")
    duplicate = owner.post(
        DATA_SOURCES, json={"name": "Main", "db_type": "postgres", "host": "db", "database_name": "d"}
    )
    assert duplicate.status_code == 409
    assert owner.patch(f"{DATA_SOURCES}/{other['id']}", json={"name": "Main"}).status_code == 409
    assert owner.patch(f"{DATA_SOURCES}/{other['id']}", json={"name": "Other"}).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"db_type": "mysql"}, "db_type"),
        ({"host": ""}, "host"),
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"database_name": ""}, "database_name"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"extra_params": ["not", "an", "object"]}, "extra_params"),
        ({"name": "nul\x00byte"}, "name"),
    ],
)
def test_invalid_fields_are_refused(owner: TestClient, change: dict[str, Any], field: str) -> None:
    body = {"name": "ok", "db_type": "postgres", "host": "db", "database_name": "d", **change}
    response = owner.post(DATA_SOURCES, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert owner.get(DATA_SOURCES).json() == []


@pytest.mark.parametrize("field", ["name", "db_type", "host", "port", "database_name", "username"])
def test_explicit_null_on_required_fields_is_refused(owner: TestClient, field: str) -> None:
    ds = create_source(owner)
    response = owner.patch(f"{DATA_SOURCES}/{ds['id']}", json={field: None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


@pytest.mark.parametrize("host", ["169.254.169.254", "metadata.google.internal", "fe80::1"])
def test_link_local_and_metadata_hosts_are_refused(owner: TestClient, host: str) -> None:
    body = {"name": "meta", "db_type": "clickhouse", "host": host, "database_name": "d"}
    response = owner.post(DATA_SOURCES, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "host"]
    ds = create_source(owner)
    patched = owner.patch(f"{DATA_SOURCES}/{ds['id']}", json={"host": host})
    assert patched.status_code == 422
    assert owner.get(f"{DATA_SOURCES}/{ds['id']}").json()["host"] == "127.0.0.1"


def test_duckdb_files_must_live_in_the_warehouses_folder(
    owner: TestClient, context: TriplContext, tmp_path: Any
) -> None:
    inside = warehouses_dir(context) / "local.duckdb"
    assert duckdb_source(owner, inside)["db_type"] == "duckdb"
    assert duckdb_source(owner, "relative.duckdb")["database_name"] == "relative.duckdb"
    for outside in (str(tmp_path / "elsewhere.duckdb"), "../tripl.db", str(warehouses_dir(context))):
        body = {"name": "x", "db_type": "duckdb", "host": "local", "database_name": outside}
        response = owner.post(DATA_SOURCES, json=body)
        assert response.status_code == 422, outside
        assert response.json()["detail"][0]["loc"] == ["body", "database_name"]


def test_writes_are_owner_only(
    owner: TestClient,
    editor: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    project: dict[str, Any],
) -> None:
    ds = create_source(owner, name="Main")
    url = f"{DATA_SOURCES}/{ds['id']}"
    body = {"name": "N", "db_type": "postgres", "host": "db", "database_name": "d"}
    read_key = key_client("owner", "read")
    for client in (editor, viewer, read_key):
        assert client.post(DATA_SOURCES, json=body).status_code == 403
        assert client.patch(url, json={"name": "Renamed"}).status_code == 403
        assert client.post(f"{url}/test").status_code == 403
        assert client.delete(url).status_code == 403
        assert client.get(url).status_code == 200
        assert client.get(f"{url}/stats").status_code == 200
    bound = key_client("owner", "write", project_slug="shop")
    assert bound.get(DATA_SOURCES).status_code == 403
    assert bound.get(url).status_code == 403
    assert bound.post(DATA_SOURCES, json=body).status_code == 403
    assert key_client("owner", "write").post(DATA_SOURCES, json=body).status_code == 201
    assert owner.get(url).json()["name"] == "Main"


def test_unknown_ids_are_404(owner: TestClient) -> None:
    url = f"{DATA_SOURCES}/{uuid.uuid4()}"
    assert owner.get(url).status_code == 404
    assert owner.patch(url, json={"name": "x"}).status_code == 404
    assert owner.delete(url).status_code == 404
    assert owner.post(f"{url}/test").status_code == 404
    assert owner.get(f"{url}/stats").status_code == 404
    assert owner.get(f"{url}/schema").status_code == 404


def add_scan(ctx: TriplContext, project_id: str, ds_id: str, name: str = "scan") -> uuid.UUID:
    with ctx.db.transaction() as db:
        config = ScanConfig(
            project_id=uuid.UUID(project_id),
            data_source_id=uuid.UUID(ds_id),
            name=name,
            base_query="SELECT 1",
        )
        db.add(config)
        db.flush()
        return config.id


def test_delete_removes_the_source_and_its_scan_configs(
    owner: TestClient, project: dict[str, Any], context: TriplContext
) -> None:
    ds = create_source(owner)
    keep = create_source(owner)
    add_scan(context, str(project["id"]), ds["id"], "gone")
    add_scan(context, str(project["id"]), keep["id"], "kept")
    assert owner.delete(f"{DATA_SOURCES}/{ds['id']}").status_code == 204
    assert owner.get(f"{DATA_SOURCES}/{ds['id']}").status_code == 404
    with context.db.sessions() as db:
        assert list(db.scalars(select(ScanConfig.name))) == ["kept"]


def test_writes_are_audited_without_secrets(owner: TestClient, context: TriplContext) -> None:
    ds = create_source(owner, password="pw-created", extra_params={"private_key": "pk-created"})
    url = f"{DATA_SOURCES}/{ds['id']}"
    owner.patch(url, json={"password": "pw-updated", "extra_params": {"private_key": "pk-updated"}})
    owner.post(f"{url}/test")
    owner.delete(url)
    with context.db.sessions() as db:
        entries = list(db.scalars(select(AuditEntry).order_by(AuditEntry.created_at)))
    actions = [e.action for e in entries if e.target_type == "data_source"]
    assert actions == ["data_source.create", "data_source.update", "data_source.test", "data_source.delete"]
    dumped = repr([e.payload for e in entries])
    for secret in ("pw-created", "pw-updated", "pk-created", "pk-updated"):
        assert secret not in dumped
    update = next(e for e in entries if e.action == "data_source.update")
    assert update.payload["secret_params_set"] == ["private_key"]


# ---------------------------------------------------------------------------------------------
# Live warehouse: test connection and schema


def test_connection_test_on_duckdb(owner: TestClient, viewer: TestClient, context: TriplContext) -> None:
    path = make_duckdb(context, ["CREATE TABLE events (id INTEGER, name VARCHAR, props JSON)"])
    ds = duckdb_source(owner, path)
    response = owner.post(f"{DATA_SOURCES}/{ds['id']}/test")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"].startswith("Connection OK: ")
    assert body["data_source"]["last_test_status"] == "success"
    assert body["data_source"]["last_test_message"] == body["message"]
    assert body["data_source"]["last_test_at"] == body["tested_at"]
    assert viewer.get(f"{DATA_SOURCES}/{ds['id']}").json()["last_test_status"] == "success"

    schema = viewer.get(f"{DATA_SOURCES}/{ds['id']}/schema")
    assert schema.status_code == 200, schema.text
    tables = {t["name"]: t for t in schema.json()["tables"]}
    events = next(t for name, t in tables.items() if name.endswith("events"))
    assert [(c["name"], c["data_type"].upper()) for c in events["columns"]] == [
        ("id", "INTEGER"),
        ("name", "VARCHAR"),
        ("props", "JSON"),
    ]


def test_connection_test_on_postgres(
    owner: TestClient, viewer: TestClient, pg_database_factory: Callable[[], str]
) -> None:
    database = make_pg_warehouse(
        pg_database_factory, ["CREATE TABLE page_views (id bigint, url text, occurred_at timestamptz)"]
    )
    ds = create_source(owner, host="127.0.0.1", port=5432, username="postgres", database_name=database)
    body = owner.post(f"{DATA_SOURCES}/{ds['id']}/test").json()
    assert body["success"] is True, body
    assert body["message"].startswith("Connection OK: ") and "PostgreSQL" in body["message"]

    tables = viewer.get(f"{DATA_SOURCES}/{ds['id']}/schema").json()["tables"]
    page_views = next(t for t in tables if t["name"].endswith("page_views"))
    assert [c["name"] for c in page_views["columns"]] == ["id", "url", "occurred_at"]
    assert page_views["columns"][0]["data_type"] == "bigint"


def test_failed_connection_is_reported_not_raised(owner: TestClient, context: TriplContext) -> None:
    ds = create_source(owner, host="127.0.0.1", port=1, username="postgres", password="hunter2")
    response = owner.post(f"{DATA_SOURCES}/{ds['id']}/test")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert body["message"].startswith("Connection test failed")
    assert "hunter2" not in body["message"]
    assert body["data_source"]["last_test_status"] == "failed"
    assert stored(context, ds["id"]).last_test_message == body["message"]

    schema = owner.get(f"{DATA_SOURCES}/{ds['id']}/schema")
    assert schema.status_code == 502
    assert "hunter2" not in schema.text and schema.json()["detail"]


def test_missing_duckdb_file_fails_the_test(owner: TestClient, context: TriplContext) -> None:
    ds = duckdb_source(owner, warehouses_dir(context) / "absent.duckdb")
    body = owner.post(f"{DATA_SOURCES}/{ds['id']}/test").json()
    assert body["success"] is False and body["data_source"]["last_test_status"] == "failed"
    assert not (warehouses_dir(context) / "absent.duckdb").exists()  # never created by a test


# ---------------------------------------------------------------------------------------------
# Stats from stored metrics


def test_stats_sum_stored_metrics_of_the_sources_scans(
    owner: TestClient, viewer: TestClient, project: dict[str, Any], context: TriplContext
) -> None:
    ds = create_source(owner)
    other = create_source(owner)
    scan_a = add_scan(context, str(project["id"]), ds["id"], "a")
    scan_b = add_scan(context, str(project["id"]), ds["id"], "b")
    foreign = add_scan(context, str(project["id"]), other["id"], "foreign")
    event_type, _ = make_event_type(context, str(project["id"]), "screen")
    home, cart, old = (make_event(context, event_type, name) for name in ("home", "cart", "old"))

    now = utcnow().replace(minute=0, second=0, microsecond=0)
    recent, earlier, long_ago = now - timedelta(hours=2), now - timedelta(hours=5), now - timedelta(hours=60)
    points = [
        (scan_a, MetricScopeType.project_total, str(scan_a), None, earlier, 100),
        (scan_a, MetricScopeType.project_total, str(scan_a), None, recent, 40),
        (scan_b, MetricScopeType.project_total, str(scan_b), None, recent, 2),
        (scan_a, MetricScopeType.project_total, str(scan_a), None, long_ago, 1000),
        (foreign, MetricScopeType.project_total, str(foreign), None, recent, 7000),
        (scan_a, MetricScopeType.event, str(home.id), home.id, recent, 30),
        (scan_b, MetricScopeType.event, str(home.id), home.id, earlier, 1),
        (scan_a, MetricScopeType.event, str(cart.id), cart.id, earlier, 10),
        (scan_a, MetricScopeType.event, str(old.id), old.id, long_ago, 5),
        (foreign, MetricScopeType.event, str(old.id), old.id, recent, 5),
        (scan_a, MetricScopeType.event_type, str(event_type.id), None, recent, 40),
    ]
    with context.db.transaction() as db:
        for scan_id, scope, ref, event_id, bucket, count in points:
            put_points(
                db, scan_id, {"scope_type": scope, "scope_ref": ref, "event_id": event_id}, {bucket: count}
            )

    response = viewer.get(f"{DATA_SOURCES}/{ds['id']}/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["window_hours"] == 48
    assert stats["events_tracked"] == 2  # home and cart; old only before the window
    assert stats["volume_window"] == 142
    assert [(p["count"]) for p in stats["throughput"]] == [100, 42]
    buckets = [p["bucket"] for p in stats["throughput"]]
    assert buckets == sorted(buckets)

    wide = viewer.get(f"{DATA_SOURCES}/{ds['id']}/stats", params={"window_hours": 720}).json()
    assert (wide["events_tracked"], wide["volume_window"], wide["window_hours"]) == (3, 1142, 720)
    assert [p["count"] for p in wide["throughput"]] == [1000, 100, 42]

    empty = owner.get(f"{DATA_SOURCES}/{create_source(owner)['id']}/stats").json()
    assert empty == {"events_tracked": 0, "volume_window": 0, "window_hours": 48, "throughput": []}

    for bad in (0, 721):
        assert viewer.get(f"{DATA_SOURCES}/{ds['id']}/stats", params={"window_hours": bad}).status_code == 422
