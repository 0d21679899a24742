from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tripl.core.schemas import UtcDatetime
from tripl.plan.events.models import EventStatus
from tripl.plan.variables.models import ValueKind

MAX_VALUE_CHARS = 100_000
MAX_TAG_CHARS = 100
MAX_BULK = 10_000


def normalise_tags(tags: list[str]) -> list[str]:
    """Trimmed, lower-cased, blanks dropped, first occurrence kept; longer than 100 chars is refused."""
    seen: dict[str, None] = {}
    for raw in tags:
        tag = raw.strip().lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"tag '{tag[:20]}…' is longer than {MAX_TAG_CHARS} characters")
        seen.setdefault(tag, None)
    return list(seen)


def normalise_breakdown_columns(columns: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for raw in columns:
        column = raw.strip()
        if not column:
            continue
        if "." in column:
            raise ValueError(f"'{column}' is not a scalar column (breakdowns cannot use JSON paths)")
        seen.setdefault(column, None)
    return list(seen)


def clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class EventFieldValueIn(BaseModel):
    field_definition_id: uuid.UUID
    value: str = Field(max_length=MAX_VALUE_CHARS)


class EventMetaValueIn(BaseModel):
    meta_field_definition_id: uuid.UUID
    value: str = Field(max_length=MAX_VALUE_CHARS)


class EventCreate(BaseModel):
    event_type_id: uuid.UUID
    name: str = Field(min_length=1, max_length=500)
    description: str = ""
    status: EventStatus = EventStatus.draft
    sunset_at: UtcDatetime | None = None
    owner_id: uuid.UUID | None = None
    reviewed: bool = False
    metric_breakdown_columns: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    field_values: list[EventFieldValueIn] = Field(default_factory=list)
    meta_values: list[EventMetaValueIn] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalise_tags(value)

    @field_validator("metric_breakdown_columns")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        return normalise_breakdown_columns(value)


# Keys of EventUpdate whose columns (or lists) cannot be "cleared": null is refused, not ignored.
_NOT_NULL_UPDATE_KEYS = (
    "name",
    "status",
    "reviewed",
    "metric_breakdown_columns",
    "tags",
    "field_values",
    "meta_values",
)


class EventUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    status: EventStatus | None = None
    sunset_at: UtcDatetime | None = None
    owner_id: uuid.UUID | None = None
    reviewed: bool | None = None
    metric_breakdown_columns: list[str] | None = None
    tags: list[str] | None = None
    field_values: list[EventFieldValueIn] | None = None
    meta_values: list[EventMetaValueIn] | None = None

    @model_validator(mode="before")
    @classmethod
    def refuse_type_change_and_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "event_type_id" in data:
                raise ValueError("event_type_id cannot be changed; create a new event instead")
            nulls = [k for k in _NOT_NULL_UPDATE_KEYS if k in data and data[k] is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may be omitted but not null")
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else clean_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_tags(value)

    @field_validator("metric_breakdown_columns")
    @classmethod
    def _columns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_breakdown_columns(value)


EventIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_BULK)]


class EventMove(BaseModel):
    direction: Literal["up", "down"]
    visible_event_ids: list[uuid.UUID] | None = None


class EventReorder(BaseModel):
    event_ids: EventIds

    @field_validator("event_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(value)) != len(value):
            raise ValueError("event ids must not repeat")
        return value


class EventBulkUpdate(BaseModel):
    event_ids: EventIds
    status: EventStatus | None = None
    sunset_at: UtcDatetime | None = None
    owner_id: uuid.UUID | None = None
    reviewed: bool | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> EventBulkUpdate:
        if all(getattr(self, k) is None for k in ("status", "sunset_at", "owner_id", "reviewed")):
            raise ValueError("give at least one of status, sunset_at, owner_id, reviewed")
        return self


class EventBulkDelete(BaseModel):
    event_ids: EventIds


# --- responses -----------------------------------------------------------------------------


class EventTypeBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    display_name: str
    color: str


class EventTagResponse(BaseModel):
    id: uuid.UUID
    name: str


class EventFieldVariableValueResponse(BaseModel):
    id: uuid.UUID
    variable_id: uuid.UUID
    variable_name: str
    source_column: str
    value_kind: ValueKind
    observed_count: int
    values: list[str]
    updated_at: datetime


class EventFieldValueResponse(BaseModel):
    id: uuid.UUID
    field_definition_id: uuid.UUID
    value: str
    is_authored: bool
    variable_values: list[EventFieldVariableValueResponse] = Field(default_factory=list)


class EventMetaValueResponse(BaseModel):
    id: uuid.UUID
    meta_field_definition_id: uuid.UUID
    value: str


class EventListItemResponse(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    event_type_id: uuid.UUID
    name: str
    source_name: str
    description: str
    order: int
    status: EventStatus
    sunset_at: datetime | None
    last_seen_at: datetime | None
    owner_id: uuid.UUID | None
    reviewed: bool
    metric_breakdown_columns: list[str]
    drift_count: int
    tags: list[EventTagResponse]
    field_values: list[EventFieldValueResponse]
    meta_values: list[EventMetaValueResponse]
    created_at: datetime
    updated_at: datetime


class EventResponse(EventListItemResponse):
    event_type: EventTypeBrief


class EventListResponse(BaseModel):
    items: list[EventListItemResponse]
    total: int


class EventChangeResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID | None
    user_email: str | None
    field: str
    old_value: str | None
    new_value: str | None
    created_at: datetime
