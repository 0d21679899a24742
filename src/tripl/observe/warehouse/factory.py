"""Build the right adapter for a connection config."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import cast

from tripl.observe.warehouse.base import ConnectionConfig, DBType, Warehouse
from tripl.observe.warehouse.guard import check_host

# Adapters whose client libraries are heavy are imported only when a source of that type is used.
_LAZY_ADAPTERS: dict[DBType, str] = {
    DBType.clickhouse: "tripl.observe.warehouse.clickhouse.ClickHouseWarehouse",
    DBType.bigquery: "tripl.observe.warehouse.bigquery.BigQueryWarehouse",
}
_NETWORK_TYPES = frozenset({DBType.postgres, DBType.clickhouse})


def _adapter_class(dotted: str) -> type:
    module_name, _, class_name = dotted.rpartition(".")
    return cast(type, getattr(importlib.import_module(module_name), class_name))


def open_warehouse(config: ConnectionConfig, *, duckdb_dir: Path) -> Warehouse:
    """An unopened adapter for `config` (use it as a context manager); refuses forbidden hosts.

    `duckdb_dir` is the only directory DuckDB files may be opened from.
    """
    db_type = DBType(config.db_type)
    if db_type in _NETWORK_TYPES:
        check_host(config.host)
    if db_type == DBType.duckdb:
        from tripl.observe.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(config, allowed_dir=duckdb_dir)
    if db_type == DBType.postgres:
        from tripl.observe.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(config)
    return cast(Warehouse, _adapter_class(_LAZY_ADAPTERS[db_type])(config))
