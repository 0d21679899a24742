from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class EventTypeOwnerCreate(BaseModel):
    user_id: uuid.UUID


class EventTypeOwnerResponse(BaseModel):
    id: uuid.UUID = Field(description="Id of the ownership row (used by Remove Owner)")
    event_type_id: uuid.UUID
    user_id: uuid.UUID
    user_email: str
    user_name: str
    granted_by: uuid.UUID | None
    created_at: datetime
