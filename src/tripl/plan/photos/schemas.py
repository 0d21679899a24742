from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tripl.plan.photos.models import PhotoKind

StorageBackendName = Literal["local", "gcs"]


class EventPhotoFigmaCreate(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    title: str = Field(default="", max_length=500)


class EventPhotoReorder(BaseModel):
    photo_ids: list[uuid.UUID]


class EventPhotoResponse(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    project_id: uuid.UUID
    kind: PhotoKind
    original_filename: str
    content_type: str
    size_bytes: int
    storage_backend: StorageBackendName | None
    sort_order: int
    url: str
    external_url: str | None = None
    uploaded_by_user_id: uuid.UUID | None = None
    created_at: datetime
    # Beyond the contract (additive): the Figma frame's label, "" for uploads.
    title: str = ""


class EventPhotoCommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=4000)
    parent_id: uuid.UUID | None = None

    @field_validator("body")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class EventPhotoCommentResponse(BaseModel):
    id: uuid.UUID
    photo_id: uuid.UUID
    parent_id: uuid.UUID | None
    user_id: uuid.UUID | None
    body: str
    created_at: datetime
    updated_at: datetime
