"""A DuckDB warehouse file, a data source and scan configs written through the ORM, and a job control."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from tripl.core.context import TriplContext
from tripl.observe.data_sources.models import DataSource
from tripl.observe.scans.models import ScanConfig
from tripl.observe.warehouse.base import DBType


class Control:
    """The job runner's side of a pipeline, recording what the pipeline reported."""

    def __init__(self, config_id: uuid.UUID, *, cancel: bool = False) -> None:
        self.job_id = uuid.uuid4()
        self.scan_config_id = config_id
        self.time_from: datetime | None = None
        self.time_to: datetime | None = None
        self.progressed: list[dict[str, Any]] = []
        self.saved: dict[str, Any] | None = None
        self.cancel = cancel

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        return self.saved

    def progress(self, **summary: Any) -> None:
        self.progressed.append(summary)

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.saved = checkpoint

    def cancel_requested(self) -> bool:
        return self.cancel


def make_warehouse(ctx: TriplContext, ddl: str, rows: list[tuple[Any, ...]]) -> DataSource:
    """A DuckDB file with table `ev` (created by `ddl`) holding `rows`, and its data source row."""
    name = f"scan-{uuid.uuid4().hex[:10]}.duckdb"
    folder = Path(ctx.settings.data_dir) / "warehouses"
    folder.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(folder / name))
    conn.execute(ddl)
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        conn.executemany(f"INSERT INTO ev VALUES ({marks})", rows)
    conn.close()
    with ctx.db.transaction() as db:
        source = DataSource(name=name, db_type=DBType.duckdb, host="", port=0, database_name=name)
        db.add(source)
    return source


def make_config(ctx: TriplContext, project_id: Any, source: DataSource, **fields: Any) -> ScanConfig:
    values: dict[str, Any] = {"name": f"scan {uuid.uuid4().hex[:6]}", "base_query": "SELECT * FROM ev"}
    values.update(fields)
    with ctx.db.transaction() as db:
        config = ScanConfig(project_id=uuid.UUID(str(project_id)), data_source_id=source.id, **values)
        db.add(config)
    return config


def update_config(ctx: TriplContext, config_id: uuid.UUID, **fields: Any) -> None:
    with ctx.db.transaction() as db:
        config = db.get(ScanConfig, config_id)
        assert config is not None
        for key, value in fields.items():
            setattr(config, key, value)
