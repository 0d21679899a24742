"""metric series get an integer id; their points become (series id, bucket, count)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:45:00

The three scoped series tables (counts, breakdowns, app versions) repeated their scope's text key
and foreign keys on every point. Now one `metric_series` row per series holds them and
`metric_series_points` holds the narrow points. Every stored point is copied over: one series per
distinct old key (an event's type is taken from its rows), then the points joined to their series.
The coverage table keeps its shape. Downgrade rebuilds the 0004 tables from the new ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tripl.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCOPE = ("scan_config_id", "scope_type", "scope_ref")
SCOPE_TYPE = sa.Enum(
    "project_total", "event_type", "event", name="metricscopetype", native_enum=False, length=16
)
SERIES_KIND = sa.Enum("counts", "breakdown", "app_version", name="serieskind", native_enum=False, length=16)
SERIES_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# old table -> (kind, its extra key columns, its rows' (column, value, is_other) as SQL over `p`)
OLD_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, str, str]]] = {
    "metric_points": ("counts", (), ("''", "''", "false")),
    "metric_breakdown_points": (
        "breakdown",
        ("column", "value", "is_other"),
        ('p."column"', "p.value", "p.is_other"),
    ),
    "metric_app_version_points": ("app_version", ("version", "is_other"), ("''", "p.version", "p.is_other")),
}
# old table -> its primary key at 0004
OLD_KEYS: dict[str, tuple[str, ...]] = {
    "metric_points": (*SCOPE, "bucket"),
    "metric_breakdown_points": (*SCOPE, "column", "bucket", "value", "is_other"),
    "metric_app_version_points": (*SCOPE, "bucket", "version", "is_other"),
}


def _any_uuid(column: str) -> str:
    """One value of a uuid column per group (PostgreSQL has no min() over uuid)."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(MIN(CAST({column} AS TEXT)) AS UUID)"
    return f"MIN({column})"


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", SERIES_ID, autoincrement=True, nullable=False),
        sa.Column("scan_config_id", sa.Uuid(), nullable=False),
        sa.Column("kind", SERIES_KIND, nullable=False),
        sa.Column("scope_type", SCOPE_TYPE, nullable=False),
        sa.Column("scope_ref", sa.String(length=64), nullable=False),
        sa.Column("event_type_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("column", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("is_other", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_metric_series_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_type_id"],
            ["event_types.id"],
            name=op.f("fk_metric_series_event_type_id_event_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scan_config_id"],
            ["scan_configs.id"],
            name=op.f("fk_metric_series_scan_config_id_scan_configs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_series")),
        sa.UniqueConstraint(*SCOPE, "kind", "column", "value", "is_other", name="uq_metric_series_key"),
    )
    with op.batch_alter_table("metric_series") as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_series_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_metric_series_event_type_id"), ["event_type_id"], unique=False)
    op.create_table(
        "metric_series_points",
        sa.Column("series_id", SERIES_ID, nullable=False),
        sa.Column("bucket", tripl.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["metric_series.id"],
            name=op.f("fk_metric_series_points_series_id_metric_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "bucket", name=op.f("pk_metric_series_points")),
        sqlite_with_rowid=False,
    )
    for table, (kind, extra, (column, value, is_other)) in OLD_TABLES.items():
        # Names and literals from this file only.
        grouped = ", ".join((*(f"p.{c}" for c in SCOPE), *(f'p."{c}"' for c in extra)))
        series = (
            "INSERT INTO metric_series (scan_config_id, kind, scope_type, scope_ref, event_type_id, event_id,"  # noqa: S608
            f" \"column\", value, is_other) SELECT p.scan_config_id, '{kind}', p.scope_type, p.scope_ref,"
            f" {_any_uuid('p.event_type_id')}, {_any_uuid('p.event_id')}, {column}, {value}, {is_other}"
            f" FROM {table} p GROUP BY {grouped}"
        )
        op.execute(series)
        same = [*(f"s.{c} = p.{c}" for c in SCOPE), f"s.kind = '{kind}'"]
        same += [f's."column" = {column}', f"s.value = {value}", f"s.is_other = {is_other}"]
        op.execute(
            "INSERT INTO metric_series_points (series_id, bucket, count)"  # noqa: S608
            f" SELECT s.id, p.bucket, p.count FROM {table} p JOIN metric_series s ON {' AND '.join(same)}"
        )
        op.drop_table(table)


def _old_table(name: str) -> None:
    extra: list[sa.Column[object]] = []
    if name == "metric_breakdown_points":
        extra = [sa.Column("column", sa.String(length=255), nullable=False),
                 sa.Column("value", sa.String(length=500), nullable=False),
                 sa.Column("is_other", sa.Boolean(), nullable=False)]  # fmt: skip
    elif name == "metric_app_version_points":
        extra = [sa.Column("version", sa.String(length=255), nullable=False),
                 sa.Column("is_other", sa.Boolean(), nullable=False)]  # fmt: skip
    op.create_table(
        name,
        *extra,
        sa.Column("bucket", tripl.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("scan_config_id", sa.Uuid(), nullable=False),
        sa.Column("scope_type", SCOPE_TYPE, nullable=False),
        sa.Column("scope_ref", sa.String(length=64), nullable=False),
        sa.Column("event_type_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f(f"fk_{name}_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_type_id"],
            ["event_types.id"],
            name=op.f(f"fk_{name}_event_type_id_event_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scan_config_id"],
            ["scan_configs.id"],
            name=op.f(f"fk_{name}_scan_config_id_scan_configs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*OLD_KEYS[name], name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{name}_event_type_id"), ["event_type_id"], unique=False)
        if name == "metric_points":
            batch_op.create_index("ix_metric_points_scan_bucket", ["scan_config_id", "bucket"], unique=False)


def downgrade() -> None:
    for table, (kind, extra, _) in OLD_TABLES.items():
        _old_table(table)
        targets = {"column": '"column"', "value": "value", "version": "value", "is_other": "is_other"}
        names = ", ".join(
            (*SCOPE, "event_type_id", "event_id", "bucket", "count", *(f'"{c}"' for c in extra))
        )
        values = ", ".join(
            (*(f"s.{c}" for c in SCOPE), "s.event_type_id", "s.event_id", "p.bucket", "p.count",
             *(f"s.{targets[c]}" for c in extra))
        )  # fmt: skip
        op.execute(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM metric_series s"  # noqa: S608
            f" JOIN metric_series_points p ON p.series_id = s.id WHERE s.kind = '{kind}'"
        )
    op.drop_table("metric_series_points")
    op.drop_table("metric_series")
