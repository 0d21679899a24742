"""Scan job request/response models, named as in the contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tripl.core.schemas import UtcDatetime


class ScanJobResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    scan_config_id: uuid.UUID
    # The contract's enum is pending|running|completed|failed; `cancelled` is additive, so the
    # field is declared as a plain string rather than an enum the contract would not recognise.
    status: str = Field(description="pending | running | completed | failed | cancelled")
    started_at: datetime | None
    completed_at: datetime | None
    result_summary: dict[str, Any] | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    # Additive fields.
    kind: str = Field(description="catalog | collect | replay | apply_groups")
    trigger: str = Field(description="manual | schedule")
    time_from: datetime | None
    time_to: datetime | None
    cancel_requested: bool
    attempts: int


class ScanMetricsReplayRequest(BaseModel):
    time_from: UtcDatetime = Field(description="Naive values are treated as UTC")
    time_to: UtcDatetime = Field(description="Must be later than time_from")

    @model_validator(mode="after")
    def _ordered(self) -> ScanMetricsReplayRequest:
        if self.time_to <= self.time_from:
            raise ValueError("time_to must be later than time_from")
        return self
