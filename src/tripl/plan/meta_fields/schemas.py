from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tripl.core.schemas import refuse_null, sent_changes
from tripl.plan.base import Sensitivity
from tripl.plan.fields.rules import Order, Text, check_enum_options, no_nul, normalize_enum_options
from tripl.plan.fields.schemas import NAME_IMMUTABLE_HELP
from tripl.plan.meta_fields.models import MetaFieldType

LINK_PLACEHOLDER = "{value}"
LINK_TEMPLATE_MAX = 2000
LINK_HELP = (
    f"URL pattern; the meta value replaces {LINK_PLACEHOLDER} (also written ${LINK_PLACEHOLDER}). "
    f"Trimmed, blank means none, at most {LINK_TEMPLATE_MAX} characters"
)


def check_link_template(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = no_nul(value.strip())
    if len(value) > LINK_TEMPLATE_MAX:
        raise ValueError(f"link_template must be at most {LINK_TEMPLATE_MAX} characters")
    if LINK_PLACEHOLDER not in value:
        raise ValueError(f"link_template must contain the placeholder {LINK_PLACEHOLDER}")
    return value


def check_default(field_type: str, options: list[str] | None, default_value: str | None) -> None:
    if field_type == "enum" and default_value and default_value not in (options or []):
        raise ValueError("default_value must be one of enum_options")


class MetaFieldCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    display_name: Text = Field(min_length=1, max_length=255)
    field_type: MetaFieldType
    is_required: bool = False
    enum_options: list[str] | None = None
    default_value: Text | None = None
    link_template: str | None = Field(default=None, description=LINK_HELP)
    order: Order = Field(default=0, description="Position; appended after the last meta field when omitted")
    sensitivity: Sensitivity = Sensitivity.none

    @field_validator("enum_options")
    @classmethod
    def options_unique(cls, value: list[str] | None) -> list[str] | None:
        return check_enum_options(value)

    @field_validator("link_template")
    @classmethod
    def link_has_placeholder(cls, value: str | None) -> str | None:
        return check_link_template(value)

    @model_validator(mode="after")
    def consistent(self) -> MetaFieldCreate:
        self.enum_options = normalize_enum_options(self.field_type, self.enum_options)
        check_default(self.field_type, self.enum_options, self.default_value)
        return self


class MetaFieldUpdate(BaseModel):
    name: str | None = Field(default=None, description=NAME_IMMUTABLE_HELP)
    display_name: Text | None = Field(default=None, min_length=1, max_length=255)
    field_type: MetaFieldType | None = None
    is_required: bool | None = None
    enum_options: list[str] | None = None
    default_value: Text | None = None
    link_template: str | None = Field(default=None, description=LINK_HELP)
    order: Order | None = None
    sensitivity: Sensitivity | None = None

    @field_validator("enum_options")
    @classmethod
    def options_unique(cls, value: list[str] | None) -> list[str] | None:
        return check_enum_options(value)

    @field_validator("link_template")
    @classmethod
    def link_has_placeholder(cls, value: str | None) -> str | None:
        return check_link_template(value)

    @field_validator("display_name", "field_type", "is_required", "order", "sensitivity")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        return refuse_null(value)

    def changes(self) -> dict[str, Any]:
        """The keys the client sent, without the immutable name."""
        return sent_changes(self)


class MetaFieldResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    display_name: str
    field_type: MetaFieldType
    is_required: bool
    enum_options: list[Any] | None
    default_value: str | None
    link_template: str | None
    order: int
    sensitivity: Sensitivity
