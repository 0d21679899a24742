from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel


class ActivityType(enum.StrEnum):
    anomaly = "anomaly"
    scan = "scan"
    alert = "alert"
    event = "event"


class ActivitySeverity(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class ActivityItemResponse(BaseModel):
    id: str
    project_id: uuid.UUID
    project_slug: str
    project_name: str
    type: ActivityType
    severity: ActivitySeverity
    title: str
    detail: str
    target_path: str | None
    occurred_at: datetime
