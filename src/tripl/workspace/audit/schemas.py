from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    user_id: uuid.UUID | None
    user_email: str
    project_id: uuid.UUID | None
    project_slug: str
    action: str
    target_type: str
    target_id: uuid.UUID | None
    target_name: str
    payload: dict[str, Any]


class AuditListResponse(BaseModel):
    items: list[AuditEntryResponse]
    total: int
