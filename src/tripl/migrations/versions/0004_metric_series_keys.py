"""metric series keyed by what they count: the natural key is the primary key, no surrogate id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 23:30:00

The four series tables drop their uuid `id` (nothing refers to it) and the unique key becomes the
primary key (breakdowns: the column before the bucket, so it also serves reads by column, and their
extra scope/column index goes). On SQLite the tables are rebuilt keeping every row (batch mode
copies them); on PostgreSQL they are altered in place. The rows already satisfy the new keys: each
is the old unique key's columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCOPE = ("scan_config_id", "scope_type", "scope_ref")
# table -> (new primary key, old unique key, indexes dropped)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "metric_points": ((*SCOPE, "bucket"), (*SCOPE, "bucket"), ()),
    "metric_breakdown_points": (
        (*SCOPE, "column", "bucket", "value", "is_other"),
        (*SCOPE, "bucket", "column", "value", "is_other"),
        ("ix_breakdown_points_scope_column",),
    ),
    "metric_app_version_points": (
        (*SCOPE, "bucket", "version", "is_other"),
        (*SCOPE, "bucket", "version", "is_other"),
        (),
    ),
    "metric_coverage_points": (("scan_config_id", "bucket"), ("scan_config_id", "bucket"), ()),
}


def _primary_name(table: str) -> str:
    return str(sa.inspect(op.get_bind()).get_pk_constraint(table)["name"] or f"pk_{table}")


def _unique_name(table: str) -> str:
    """As the database has it (PostgreSQL cuts names longer than 63 characters)."""
    [unique] = [c["name"] for c in sa.inspect(op.get_bind()).get_unique_constraints(table)]
    return str(unique)


def upgrade() -> None:
    for table, (key, _, dropped) in TABLES.items():
        primary, unique = _primary_name(table), _unique_name(table)
        with op.batch_alter_table(table) as batch_op:
            for index in dropped:
                batch_op.drop_index(index)
            batch_op.drop_constraint(unique, type_="unique")
            batch_op.drop_constraint(primary, type_="primary")
            batch_op.drop_column("id")
            batch_op.create_primary_key(op.f(f"pk_{table}"), list(key))


def downgrade() -> None:
    new_id = (
        "gen_random_uuid()" if op.get_bind().dialect.name == "postgresql" else "lower(hex(randomblob(16)))"
    )
    for table, (_, unique_key, dropped) in TABLES.items():
        primary = _primary_name(table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("id", sa.Uuid(), nullable=True))
        op.execute(f"UPDATE {table} SET id = {new_id}")  # noqa: S608 (names from this file)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(primary, type_="primary")
            batch_op.alter_column("id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_primary_key(op.f(f"pk_{table}"), ["id"])
            batch_op.create_unique_constraint(op.f(f"uq_{table}_{'_'.join(unique_key)}"), list(unique_key))
            for index in dropped:
                batch_op.create_index(index, [*SCOPE, "column"], unique=False)
