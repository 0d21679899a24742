"""Warehouse connections: stored with encrypted secrets, tested, introspected, summarised.

Secrets never leave this module in a response: the password and the secret keys of
`extra_params` (credentials JSON, private keys, anything named like a password, secret or
token) are Fernet-encrypted at save and decrypted only into a `ConnectionConfig`.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.errors import Conflict, DomainError, NotFound, Unprocessable
from tripl.core.security import Cipher
from tripl.observe.data_sources.models import DataSource, TestStatus
from tripl.observe.data_sources.schemas import (
    ColumnSchema,
    DataSourceResponse,
    DataSourceSchemaResponse,
    DataSourceStatsResponse,
    DataSourceThroughputPoint,
    TableSchema,
)
from tripl.observe.metrics.models import MetricPoint, MetricScopeType
from tripl.observe.scans.models import ScanConfig
from tripl.observe.warehouse.base import ConnectionConfig, DBType, Warehouse, WarehouseError
from tripl.observe.warehouse.factory import open_warehouse
from tripl.observe.warehouse.guard import HostRefused, check_host
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 300
WAREHOUSES_DIR = "warehouses"
_NETWORK_TYPES = frozenset({DBType.postgres, DBType.clickhouse})  # BigQuery and DuckDB take no host
_SECRET_KEY_MARKERS = ("password", "secret", "token", "credential", "private_key", "service_account_json")


class WarehouseUnavailable(DomainError):
    """The warehouse could not answer a live request (502); the message is sanitised."""

    status_code = 502


# ---------------------------------------------------------------------------------------------
# Secrets


def is_secret_param(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_KEY_MARKERS)


def _nested_secret_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [str(k) for k in value if is_secret_param(str(k))]
        return found + [key for v in value.values() for key in _nested_secret_keys(v)]
    if isinstance(value, list):
        return [key for v in value for key in _nested_secret_keys(v)]
    return []


def split_extra_params(params: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(plain params, secret params) of a request's extra_params.

    Only top-level keys are moved into the encrypted store, so a secret-looking key deeper down
    is refused rather than stored in the clear (and shown to every reader)."""
    if params is None:
        return None, {}
    nested = [key for k, v in params.items() if not is_secret_param(k) for key in _nested_secret_keys(v)]
    if nested:
        raise Unprocessable(
            f"Secret parameters must be top-level keys of extra_params (found nested: {', '.join(nested)})",
            field="extra_params",
        )
    plain = {k: v for k, v in params.items() if not is_secret_param(k)}
    secret = {k: v for k, v in params.items() if is_secret_param(k)}
    return plain, secret


def _stored_secrets(cipher: Cipher, data_source: DataSource) -> dict[str, Any]:
    if not data_source.secret_params_encrypted:
        return {}
    loaded = json.loads(cipher.decrypt(data_source.secret_params_encrypted))
    return dict(loaded) if isinstance(loaded, dict) else {}


def _store_secrets(cipher: Cipher, data_source: DataSource, secrets: dict[str, Any]) -> None:
    data_source.secret_params_encrypted = cipher.encrypt(json.dumps(secrets)) if secrets else None


def _store_password(cipher: Cipher, data_source: DataSource, password: str) -> None:
    data_source.password_encrypted = cipher.encrypt(password) if password else None


def secret_param_names(cipher: Cipher, data_source: DataSource) -> list[str]:
    try:
        return sorted(_stored_secrets(cipher, data_source))
    except ValueError:  # encrypted with another key: the names cannot be read either
        log.warning("secret parameters of data source %s cannot be decrypted", data_source.id)
        return []


def connection_config(ctx: TriplContext, data_source: DataSource) -> ConnectionConfig:
    """Everything an adapter needs, secrets decrypted (never log or return it)."""
    password = ctx.cipher.decrypt(data_source.password_encrypted) if data_source.password_encrypted else ""
    return ConnectionConfig(
        db_type=data_source.db_type,
        host=data_source.host,
        port=data_source.port,
        database_name=data_source.database_name,
        username=data_source.username,
        password=password,
        timeout_seconds=data_source.timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
        extra_params=dict(data_source.extra_params or {}),
        secret_params=_stored_secrets(ctx.cipher, data_source),
    )


def warehouses_dir(ctx: TriplContext) -> Path:
    return Path(ctx.settings.data_dir) / WAREHOUSES_DIR


def open_for(ctx: TriplContext, data_source: DataSource) -> Warehouse:
    """The data source's warehouse, ready to use as a context manager."""
    return open_warehouse(connection_config(ctx, data_source), duckdb_dir=warehouses_dir(ctx))


# ---------------------------------------------------------------------------------------------
# CRUD


def to_response(cipher: Cipher, data_source: DataSource) -> DataSourceResponse:
    return DataSourceResponse.model_validate(
        {
            "id": data_source.id,
            "name": data_source.name,
            "db_type": data_source.db_type,
            "host": data_source.host,
            "port": data_source.port,
            "database_name": data_source.database_name,
            "username": data_source.username,
            "password_set": bool(data_source.password_encrypted),
            "timeout_seconds": data_source.timeout_seconds,
            "extra_params": data_source.extra_params,
            "last_test_at": data_source.last_test_at,
            "last_test_status": data_source.last_test_status,
            "last_test_message": data_source.last_test_message,
            "created_at": data_source.created_at,
            "updated_at": data_source.updated_at,
            "secret_params_set": secret_param_names(cipher, data_source),
        }
    )


def list_data_sources(db: Session) -> list[DataSource]:
    return list(db.scalars(select(DataSource).order_by(DataSource.name, DataSource.id)))


def get_data_source(db: Session, ds_id: uuid.UUID) -> DataSource:
    data_source = db.get(DataSource, ds_id)
    if data_source is None:
        raise NotFound("Data source not found")
    return data_source


def _ensure_name_free(db: Session, name: str, except_id: uuid.UUID | None = None) -> None:
    query = select(DataSource.id).where(DataSource.name == name)
    if except_id is not None:
        query = query.where(DataSource.id != except_id)
    if db.scalar(query) is not None:
        raise Conflict(f"Data source '{name}' already exists")


def _flush(db: Session, name: str) -> None:
    try:
        db.flush()
    except IntegrityError:  # a concurrent request took the name between our check and the insert
        raise Conflict(f"Data source '{name}' already exists") from None


def _check_location(ctx: TriplContext, db_type: DBType, host: str, database_name: str) -> None:
    """Refuse places we must never connect to, before anything is stored."""
    if db_type == DBType.duckdb:  # the adapter checks again at open; this answers 422 at save
        root = warehouses_dir(ctx).resolve()
        path = (root / database_name).resolve()
        if not path.is_relative_to(root) or path == root:
            raise Unprocessable(
                f"A duckdb database must be a file inside {root}/ (the data directory's "
                f"'{WAREHOUSES_DIR}' folder)",
                field="database_name",
            )
        return
    if db_type not in _NETWORK_TYPES:
        return
    try:
        check_host(host)
    except HostRefused as exc:
        # A name that does not resolve (yet) may be saved; the connection test will say so. Hosts
        # that resolve to link-local or metadata addresses are refused here, before any use.
        if not str(exc).startswith("Could not resolve"):
            raise Unprocessable(str(exc), field="host") from None


def _audit(db: Session, actor: User, action: str, data_source: DataSource, payload: dict[str, Any]) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="data_source",
        target_id=data_source.id,
        target_name=data_source.name,
        payload=payload,
    )


def _audit_payload(changes: dict[str, Any], secret_changes: dict[str, Any]) -> dict[str, Any]:
    """What changed, with secrets reduced to the fact that they changed."""
    payload = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        payload["password_set"] = bool(changes["password"])
    if secret_changes:
        payload["secret_params_set"] = sorted(secret_changes)  # names only; "_set" keys stay unmasked
    return payload


def create_data_source(db: Session, ctx: TriplContext, actor: User, values: dict[str, Any]) -> DataSource:
    _ensure_name_free(db, values["name"])
    _check_location(ctx, values["db_type"], values["host"], values["database_name"])
    plain, secrets = split_extra_params(values.get("extra_params"))
    secrets = {k: v for k, v in secrets.items() if v not in (None, "")}
    data_source = DataSource(
        name=values["name"],
        db_type=values["db_type"],
        host=values["host"],
        port=values.get("port", 8123),
        database_name=values["database_name"],
        username=values.get("username", ""),
        timeout_seconds=values.get("timeout_seconds"),
        extra_params=plain,
    )
    _store_password(ctx.cipher, data_source, values.get("password", ""))
    _store_secrets(ctx.cipher, data_source, secrets)
    db.add(data_source)
    _flush(db, data_source.name)
    plain_values = {k: v for k, v in values.items() if k != "extra_params"}
    plain_values["extra_params"] = plain
    _audit(db, actor, "data_source.create", data_source, _audit_payload(plain_values, secrets))
    return data_source


def update_data_source(
    db: Session, ctx: TriplContext, actor: User, data_source: DataSource, changes: dict[str, Any]
) -> DataSource:
    if changes.get("password", "") is None:  # null keeps the stored password
        del changes["password"]
    if "name" in changes and changes["name"] != data_source.name:
        _ensure_name_free(db, changes["name"], data_source.id)
    location = ("db_type", "host", "database_name")
    if any(key in changes for key in location):
        merged = {key: changes.get(key, getattr(data_source, key)) for key in location}
        _check_location(ctx, merged["db_type"], merged["host"], merged["database_name"])
    secret_changes: dict[str, Any] = {}
    if "extra_params" in changes:
        plain, secret_changes = split_extra_params(changes["extra_params"])
        changes["extra_params"] = plain
        if secret_changes:
            secrets = _stored_secrets(ctx.cipher, data_source)
            for key, value in secret_changes.items():
                if value in (None, ""):
                    secrets.pop(key, None)
                else:
                    secrets[key] = value
            _store_secrets(ctx.cipher, data_source, secrets)
    for key, value in changes.items():
        if key == "password":
            _store_password(ctx.cipher, data_source, value)
        else:
            setattr(data_source, key, value)
    _flush(db, data_source.name)
    _audit(db, actor, "data_source.update", data_source, _audit_payload(changes, secret_changes))
    return data_source


def delete_data_source(db: Session, actor: User, data_source: DataSource) -> None:
    _audit(db, actor, "data_source.delete", data_source, {"db_type": data_source.db_type})
    # Scan configs (and their jobs and series) go with it through ON DELETE CASCADE foreign keys.
    db.delete(data_source)
    db.flush()


# ---------------------------------------------------------------------------------------------
# Live warehouse calls


def probe(ctx: TriplContext, data_source: DataSource) -> tuple[bool, str]:
    """Open the warehouse and ask it who it is: (success, sanitised message)."""
    try:
        with open_for(ctx, data_source) as warehouse:
            description = warehouse.test_connection()
    except WarehouseError as exc:
        return False, f"Connection test failed: {exc}"
    except ValueError as exc:  # refused location or undecryptable secret: both written for users
        return False, f"Connection test failed: {exc}"
    except Exception:
        log.exception("connection test of data source %s failed unexpectedly", data_source.id)
        return False, "Connection test failed due to an internal error"
    return True, f"Connection OK: {description}"


def record_test(
    db: Session, actor: User, data_source: DataSource, *, success: bool, message: str, tested_at: datetime
) -> DataSource:
    data_source.last_test_at = tested_at
    data_source.last_test_status = TestStatus.success if success else TestStatus.failed
    data_source.last_test_message = message
    db.flush()
    _audit(db, actor, "data_source.test", data_source, {"success": success, "message": message})
    return data_source


def live_schema(ctx: TriplContext, data_source: DataSource) -> DataSourceSchemaResponse:
    try:
        with open_for(ctx, data_source) as warehouse:
            tables = warehouse.list_tables()
    except (WarehouseError, ValueError) as exc:
        raise WarehouseUnavailable(f"Could not read the warehouse schema: {exc}") from None
    return DataSourceSchemaResponse(
        tables=[
            TableSchema(
                name=table.name,
                columns=[ColumnSchema(name=c.name, data_type=c.type_name) for c in table.columns],
            )
            for table in tables
        ]
    )


# ---------------------------------------------------------------------------------------------
# Stats from stored metrics


def stats(db: Session, data_source: DataSource, window_hours: int) -> DataSourceStatsResponse:
    since = utcnow() - timedelta(hours=window_hours)
    scans = select(ScanConfig.id).where(ScanConfig.data_source_id == data_source.id).scalar_subquery()
    in_window = (MetricPoint.scan_config_id.in_(scans), MetricPoint.bucket >= since)
    events_tracked = db.scalar(
        select(func.count(distinct(MetricPoint.event_id))).where(
            *in_window, MetricPoint.scope_type == MetricScopeType.event, MetricPoint.event_id.is_not(None)
        )
    )
    throughput = [
        DataSourceThroughputPoint(bucket=bucket, count=int(count))
        for bucket, count in db.execute(
            select(MetricPoint.bucket, func.sum(MetricPoint.count))
            .where(*in_window, MetricPoint.scope_type == MetricScopeType.project_total)
            .group_by(MetricPoint.bucket)
            .order_by(MetricPoint.bucket)
        )
    ]
    return DataSourceStatsResponse(
        events_tracked=events_tracked or 0,
        volume_window=sum(point.count for point in throughput),
        window_hours=window_hours,
        throughput=throughput,
    )
