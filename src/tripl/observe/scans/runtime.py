"""What a scan pipeline (catalog, metric collection, event groups) sees of the job running it.

The job runner (`jobs.py`) owns the ScanJob row: it marks it running, heartbeats, records the
outcome and turns exceptions into user-facing messages. Pipelines get a `JobControl` and:
- call `progress(...)` after each unit of work (merged into `result_summary`, committed in its
  own transaction, refreshes the heartbeat so the reaper leaves the job alone);
- call `cancel_requested()` between chunks and stop cleanly (keeping what they wrote) when true;
- save a resume point with `save_checkpoint(...)` and read it back from `checkpoint` so a job
  picked up again after a worker died continues instead of starting over;
- or, when a unit of work writes to the metadata DB, `save_in(db, checkpoint, **summary)` inside
  that write's own transaction: the work, its resume point and its progress commit together, so
  a crash never leaves written data without its checkpoint or a checkpoint past unwritten data;
- raise `ScanFailed("message")` for failures whose message is written for users (shown
  verbatim); anything else is reported with a sanitised generic message.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class ScanFailed(Exception):
    """A failure with an actionable message for users (e.g. which limit setting to raise)."""


class JobControl(Protocol):
    job_id: uuid.UUID
    scan_config_id: uuid.UUID
    # The window a collect/replay job covers (None for catalog and event-group jobs).
    time_from: datetime | None
    time_to: datetime | None

    @property
    def checkpoint(self) -> dict[str, Any] | None: ...

    def progress(self, **summary: Any) -> None: ...

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...

    def save_in(self, db: Session, checkpoint: dict[str, Any], **summary: Any) -> None: ...

    def cancel_requested(self) -> bool: ...
