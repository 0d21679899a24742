"""SQLite stores series point buckets as integer microseconds since the epoch

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:40:00

On SQLite `metric_series_points.bucket` held text ('2026-11-02 13:00:00.000000'); it becomes an
integer (`CompactUTCDateTime`): a smaller key that inserts ~40% faster. The table is rebuilt with
every point converted exactly, microseconds included. PostgreSQL keeps timestamptz: nothing to do.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import tripl.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SERIES_ID = sa.Integer()  # SQLite only: an alias of metric_series' rowid
# SQLAlchemy's SQLite text is 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds plus the fraction.
TEXT_TO_MICROS = (
    "CAST(strftime('%s', substr(bucket, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(COALESCE(NULLIF(substr(bucket, 21, 6), ''), '0') AS INTEGER)"
)
MICROS_TO_TEXT = (
    "strftime('%Y-%m-%d %H:%M:%S', bucket / 1000000, 'unixepoch') || '.' || printf('%06d', bucket % 1000000)"
)


def _rebuild(bucket_type: sa.types.TypeEngine[Any], convert: str) -> None:
    op.create_table(
        "metric_series_points_new",
        sa.Column("series_id", SERIES_ID, nullable=False),
        sa.Column("bucket", bucket_type, nullable=False),
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
    op.execute(
        "INSERT INTO metric_series_points_new (series_id, bucket, count)"  # noqa: S608 (this file's SQL)
        f" SELECT series_id, {convert}, count FROM metric_series_points"
    )
    op.drop_table("metric_series_points")
    op.rename_table("metric_series_points_new", "metric_series_points")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(sa.BigInteger(), TEXT_TO_MICROS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(tripl.core.db.UTCDateTime(timezone=True), MICROS_TO_TEXT)
