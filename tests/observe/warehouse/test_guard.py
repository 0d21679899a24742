"""The warehouse host guard: cloud metadata, link-local and unspecified addresses are refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tripl.observe.warehouse import factory
from tripl.observe.warehouse.base import ConnectionConfig, DBType, WarehouseUnreachable
from tripl.observe.warehouse.factory import open_warehouse
from tripl.observe.warehouse.guard import HostRefused, check_host


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("169.254.169.254", "cloud metadata endpoint"),
        ("fd00:ec2::254", "cloud metadata endpoint"),
        ("100.100.100.200", "cloud metadata endpoint"),
        ("metadata.google.internal", "cloud metadata endpoint"),
        ("Metadata.Google.Internal.", "cloud metadata endpoint"),
        ("metadata", "cloud metadata endpoint"),
        ("::ffff:169.254.169.254", "cloud metadata endpoint"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("[fe80::1]", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
    ],
)
def test_refused_hosts(host: str, reason: str) -> None:
    with pytest.raises(HostRefused, match=reason):
        check_host(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "10.1.2.3", "192.168.0.10", "172.16.5.4"])
def test_loopback_and_private_hosts_are_allowed(host: str) -> None:
    check_host(host)


def test_unresolvable_host_is_reported() -> None:
    with pytest.raises(HostRefused, match=r"Could not resolve the host 'no-such-host\.invalid'"):
        check_host("no-such-host.invalid")


def test_empty_host_is_refused() -> None:
    with pytest.raises(HostRefused, match="empty"):
        check_host("  ")


def test_refusal_is_both_unreachable_and_a_value_error() -> None:
    # data-source validation catches ValueError; adapters' callers catch WarehouseError
    with pytest.raises(WarehouseUnreachable):
        check_host("169.254.169.254")
    with pytest.raises(ValueError):
        check_host("169.254.169.254")


@pytest.mark.parametrize("db_type", [DBType.postgres, DBType.clickhouse])
def test_factory_checks_network_hosts(db_type: DBType) -> None:
    config = ConnectionConfig(db_type=db_type, host="metadata.google.internal", port=80, database_name="x")
    with pytest.raises(HostRefused):
        open_warehouse(config, duckdb_dir=Path("."))


@pytest.mark.parametrize(
    ("db_type", "adapter"),
    [
        (DBType.duckdb, "DuckDBWarehouse"),
        (DBType.postgres, "PostgresWarehouse"),
        (DBType.clickhouse, "ClickHouseWarehouse"),
    ],
)
def test_factory_dispatches_on_db_type(db_type: DBType, adapter: str) -> None:
    config = ConnectionConfig(db_type=db_type, host="127.0.0.1", port=8123, database_name="x")
    warehouse = open_warehouse(config, duckdb_dir=Path("."))  # nothing is opened before `with`
    assert type(warehouse).__name__ == adapter
    assert warehouse.db_type == db_type


def test_lazy_adapters_name_real_classes() -> None:
    # resolved without importing: google-cloud-bigquery alone takes seconds to import
    for dotted in factory._LAZY_ADAPTERS.values():
        module, _, name = dotted.rpartition(".")
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        assert f"class {name}:" in Path(spec.origin).read_text()
