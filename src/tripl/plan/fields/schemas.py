from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tripl.core.schemas import refuse_null, sent_changes
from tripl.plan.base import Sensitivity
from tripl.plan.fields.models import FieldType
from tripl.plan.fields.rules import (
    Bound,
    Order,
    Rate,
    Text,
    check_bounds,
    check_enum_options,
    check_regex,
    normalize_enum_options,
)

ORDER_HELP = "Position in the type's field list; appended after the last field when omitted"
NAME_IMMUTABLE_HELP = "Immutable: may be sent only with the current name (another value is a 422)"


class FieldDefinitionCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    display_name: Text = Field(min_length=1, max_length=255)
    field_type: FieldType
    is_required: bool = False
    enum_options: list[str] | None = None
    description: Text = ""
    order: Order = Field(default=0, description=ORDER_HELP)
    sensitivity: Sensitivity = Sensitivity.none
    contract_required_max_null_rate: Rate | None = None
    contract_regex: str | None = None
    contract_min_value: Bound | None = None
    contract_max_value: Bound | None = None
    contract_max_bad_rate: Rate = 0.0

    @field_validator("enum_options")
    @classmethod
    def options_unique(cls, value: list[str] | None) -> list[str] | None:
        return check_enum_options(value)

    @field_validator("contract_regex")
    @classmethod
    def regex_compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    @model_validator(mode="after")
    def consistent(self) -> FieldDefinitionCreate:
        self.enum_options = normalize_enum_options(self.field_type, self.enum_options)
        check_bounds(self.contract_min_value, self.contract_max_value)
        return self


class FieldDefinitionBulkCreate(BaseModel):
    fields: list[FieldDefinitionCreate] = Field(min_length=1)


class FieldReorder(BaseModel):
    field_ids: list[uuid.UUID] = Field(description="Field ids in their new order (order = position)")


NOT_NULL_UPDATE_KEYS = (
    "display_name",
    "field_type",
    "is_required",
    "order",
    "sensitivity",
    "contract_max_bad_rate",
)


class FieldDefinitionUpdate(BaseModel):
    name: str | None = Field(default=None, description=NAME_IMMUTABLE_HELP)
    display_name: Text | None = Field(default=None, min_length=1, max_length=255)
    field_type: FieldType | None = None
    is_required: bool | None = None
    enum_options: list[str] | None = None
    description: Text | None = Field(default=None, description="null clears it")
    order: Order | None = None
    sensitivity: Sensitivity | None = None
    contract_required_max_null_rate: Rate | None = None
    contract_regex: str | None = None
    contract_min_value: Bound | None = None
    contract_max_value: Bound | None = None
    contract_max_bad_rate: Rate | None = None

    @field_validator("enum_options")
    @classmethod
    def options_unique(cls, value: list[str] | None) -> list[str] | None:
        return check_enum_options(value)

    @field_validator("contract_regex")
    @classmethod
    def regex_compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    @field_validator(*NOT_NULL_UPDATE_KEYS)
    @classmethod
    def not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def changes(self) -> dict[str, Any]:
        """The keys the client sent, without the immutable name."""
        return sent_changes(self)


class FieldDefinitionResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_type_id: uuid.UUID
    name: str
    display_name: str
    field_type: FieldType
    is_required: bool
    enum_options: list[Any] | None
    description: str
    order: int
    sensitivity: Sensitivity
    contract_required_max_null_rate: float | None
    contract_regex: str | None
    contract_min_value: float | None
    contract_max_value: float | None
    contract_max_bad_rate: float
