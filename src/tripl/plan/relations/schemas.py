from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from tripl.plan.fields.rules import Text


class RelationCreate(BaseModel):
    source_event_type_id: uuid.UUID
    target_event_type_id: uuid.UUID
    source_field_id: uuid.UUID = Field(description="A field of the source event type")
    target_field_id: uuid.UUID = Field(description="A field of the target event type")
    relation_type: Text = Field(default="belongs_to", min_length=1, max_length=50, description="Free text")
    description: Text = ""


class RelationResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    source_event_type_id: uuid.UUID
    target_event_type_id: uuid.UUID
    source_field_id: uuid.UUID
    target_field_id: uuid.UUID
    relation_type: str
    description: str
