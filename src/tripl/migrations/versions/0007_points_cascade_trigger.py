"""series points lose their foreign key; a trigger deletes a deleted series' points

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00

PostgreSQL checked the points' foreign key once per point, most of the time of a bulk COPY. The
key goes; a row trigger on `metric_series` deletes the points of every deleted series (cascades
from events, event types and scans included), and point writers lock their series first (see
`tripl.observe.metrics.models.POINTS_CASCADE_SQL`). SQLite rebuilds the table without the key.
Downgrade removes any orphan point, then restores the key.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FK_NAME = "fk_metric_series_points_series_id_metric_series"
# The statements as of this revision (the models' copy may change later).
CASCADE_SQL = {
    "sqlite": [
        "CREATE TRIGGER metric_series_delete_points AFTER DELETE ON metric_series"
        " BEGIN DELETE FROM metric_series_points WHERE series_id = OLD.id; END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION metric_series_delete_points() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN DELETE FROM metric_series_points WHERE series_id = OLD.id; RETURN NULL; END $$",
        "CREATE TRIGGER metric_series_delete_points AFTER DELETE ON metric_series"
        " FOR EACH ROW EXECUTE FUNCTION metric_series_delete_points()",
    ],
}


def _rebuild_sqlite(*constraints: Any) -> None:
    op.create_table(
        "metric_series_points_new",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        *constraints,
        sa.PrimaryKeyConstraint("series_id", "bucket", name=op.f("pk_metric_series_points")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO metric_series_points_new (series_id, bucket, count)"
        " SELECT series_id, bucket, count FROM metric_series_points"
    )
    op.drop_table("metric_series_points")
    op.rename_table("metric_series_points_new", "metric_series_points")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_constraint(FK_NAME, "metric_series_points", type_="foreignkey")
    else:
        _rebuild_sqlite()
    for statement in CASCADE_SQL[dialect]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    on_table = " ON metric_series" if dialect == "postgresql" else ""
    op.execute(f"DROP TRIGGER IF EXISTS metric_series_delete_points{on_table}")
    op.execute("DELETE FROM metric_series_points WHERE series_id NOT IN (SELECT id FROM metric_series)")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS metric_series_delete_points()")
        op.create_foreign_key(
            op.f(FK_NAME), "metric_series_points", "metric_series", ["series_id"], ["id"], ondelete="CASCADE"
        )
    else:
        _rebuild_sqlite(
            sa.ForeignKeyConstraint(
                ["series_id"], ["metric_series.id"], name=op.f(FK_NAME), ondelete="CASCADE"
            )
        )
