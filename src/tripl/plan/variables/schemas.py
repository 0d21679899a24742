from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripl.core.schemas import refuse_null
from tripl.plan.variables.models import ValueKind, VariableType

VARIABLE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
# Scans once derived dotted names from JSON paths; an update may send such a name back unchanged.
LEGACY_VARIABLE_NAME_PATTERN = r"^[a-z][a-z0-9_.]*$"


class VariableCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=VARIABLE_NAME_PATTERN)
    variable_type: VariableType = VariableType.string
    description: str = ""


class VariableUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=LEGACY_VARIABLE_NAME_PATTERN)
    variable_type: VariableType | None = None
    description: str | None = None

    @field_validator("name", "variable_type")
    @classmethod
    def not_null(cls, value: object) -> object:
        return refuse_null(value)


class VariableResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    source_name: str | None
    variable_type: VariableType
    description: str
    event_count: int = 0
    context_count: int = 0
    low_context_count: int = 0
    high_context_count: int = 0
    sample_values: list[str] = Field(default_factory=list)


class VariableValueContextResponse(BaseModel):
    id: uuid.UUID
    variable_id: uuid.UUID
    variable_name: str
    event_id: uuid.UUID
    event_name: str
    field_definition_id: uuid.UUID
    field_name: str
    field_display_name: str
    source_column: str
    value_kind: ValueKind
    observed_count: int
    values: list[str] = Field(default_factory=list)
    updated_at: datetime
