from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from tripl.core.schemas import refuse_null, sent_changes
from tripl.plan.fields.rules import Order, Text
from tripl.plan.fields.schemas import NAME_IMMUTABLE_HELP, FieldDefinitionCreate, FieldDefinitionResponse

COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
DEFAULT_COLOR = "#6366f1"


class EventTypeCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    display_name: Text = Field(min_length=1, max_length=255)
    description: Text = ""
    color: str = Field(default=DEFAULT_COLOR, pattern=COLOR_PATTERN)
    order: Order = 0
    field_definitions: list[FieldDefinitionCreate] = Field(
        default_factory=list, description="Initial fields; all are validated and created together or none is"
    )


class EventTypeUpdate(BaseModel):
    name: str | None = Field(default=None, description=NAME_IMMUTABLE_HELP)
    display_name: Text | None = Field(default=None, min_length=1, max_length=255)
    description: Text | None = Field(default=None, description="null clears it")
    color: str | None = Field(default=None, pattern=COLOR_PATTERN)
    order: Order | None = None

    @field_validator("display_name", "color", "order")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def changes(self) -> dict[str, Any]:
        """The keys the client sent, without the immutable name."""
        return sent_changes(self)


class EventTypeResponse(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    display_name: str
    description: str
    color: str
    order: int
    created_at: datetime
    updated_at: datetime
    field_definitions: list[FieldDefinitionResponse] = []
