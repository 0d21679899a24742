from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from tripl.core.schemas import refuse_null
from tripl.observe.scans import validation
from tripl.observe.scans.models import ScanInterval
from tripl.plan.fields.rules import Text

INT32_MAX = 2_147_483_647


def _trimmed_not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _sql(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Positive = Annotated[int, Field(ge=1, le=INT32_MAX)]
ColumnName = Annotated[Text, Field(max_length=255), AfterValidator(validation.optional_column)]
ScanName = Annotated[Text, Field(min_length=1, max_length=255), AfterValidator(_trimmed_not_blank)]
Sql = Annotated[Text, Field(min_length=1, max_length=100_000), AfterValidator(_sql)]
EventNameFormat = Annotated[Text, Field(max_length=500)]
ScalarColumns = Annotated[
    list[Annotated[Text, Field(max_length=255)]], AfterValidator(validation.scalar_columns)
]
JsonValuePaths = Annotated[
    list[Annotated[Text, Field(max_length=500)]], AfterValidator(validation.json_value_paths)
]


class EventGroupCondition(BaseModel):
    field: Annotated[Text, Field(min_length=1, max_length=255), AfterValidator(_trimmed_not_blank)]
    pattern: Annotated[Text, Field(min_length=1, max_length=500), AfterValidator(validation.regex)]


class EventGroupRule(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=500), AfterValidator(_trimmed_not_blank)]
    condition_logic: Literal["all", "any"] = "all"
    conditions: list[EventGroupCondition] = Field(min_length=1, max_length=20)


class ScanConfigCreate(BaseModel):
    data_source_id: uuid.UUID
    event_type_id: uuid.UUID | None = None
    name: ScanName
    base_query: Sql = Field(description="One read-only SELECT (or WITH … SELECT)")
    event_type_column: ColumnName | None = None
    time_column: ColumnName | None = None
    event_name_format: EventNameFormat | None = None
    json_value_paths: JsonValuePaths = Field(default_factory=list)
    event_group_rules: list[EventGroupRule] = Field(default_factory=list)
    metric_breakdown_columns: ScalarColumns = Field(default_factory=list)
    metric_breakdown_values_limit: Positive | None = None
    distribution_drift_fields: ScalarColumns = Field(default_factory=list)
    cardinality_threshold: Positive = 100
    interval: ScanInterval | None = Field(default=None, description="Needs time_column (422 otherwise)")
    replay_chunk_interval: ScanInterval | None = None
    scan_lookback_hours: Positive | None = None
    scan_row_limit: Positive | None = None
    metrics_row_limit: Positive | None = None
    app_version_column: ColumnName | None = None
    app_version_keep_releases: Positive | None = None


NOT_NULL_UPDATE_KEYS = (
    "name",
    "base_query",
    "json_value_paths",
    "event_group_rules",
    "metric_breakdown_columns",
    "distribution_drift_fields",
    "cardinality_threshold",
)


class ScanConfigUpdate(BaseModel):
    event_type_id: uuid.UUID | None = None
    name: ScanName | None = None
    base_query: Sql | None = None
    event_type_column: ColumnName | None = None
    time_column: ColumnName | None = None
    event_name_format: EventNameFormat | None = None
    json_value_paths: JsonValuePaths | None = None
    event_group_rules: list[EventGroupRule] | None = None
    metric_breakdown_columns: ScalarColumns | None = None
    metric_breakdown_values_limit: Positive | None = None
    distribution_drift_fields: ScalarColumns | None = None
    cardinality_threshold: Positive | None = None
    interval: ScanInterval | None = None
    replay_chunk_interval: ScanInterval | None = None
    scan_lookback_hours: Positive | None = None
    scan_row_limit: Positive | None = None
    metrics_row_limit: Positive | None = None
    app_version_column: ColumnName | None = None
    app_version_keep_releases: Positive | None = None

    @field_validator(*NOT_NULL_UPDATE_KEYS)
    @classmethod
    def not_null(cls, value: object) -> object:
        return refuse_null(value)


class ScanConfigResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    data_source_id: uuid.UUID
    project_id: uuid.UUID
    event_type_id: uuid.UUID | None
    name: str
    base_query: str
    event_type_column: str | None
    time_column: str | None
    event_name_format: str | None
    json_value_paths: list[str]
    event_group_rules: list[EventGroupRule]
    metric_breakdown_columns: list[str]
    metric_breakdown_values_limit: int | None
    distribution_drift_fields: list[str]
    cardinality_threshold: int
    interval: ScanInterval | None
    replay_chunk_interval: ScanInterval | None
    scan_lookback_hours: int | None
    scan_row_limit: int | None
    metrics_row_limit: int | None
    app_version_column: str | None
    app_version_keep_releases: int | None
    created_at: datetime
    updated_at: datetime


class ScanConfigPreviewRequest(BaseModel):
    data_source_id: uuid.UUID
    base_query: Sql
    limit: int = Field(default=10, ge=1, le=50)
    json_value_paths: JsonValuePaths = Field(default_factory=list)
    time_column: ColumnName | None = None
    scan_lookback_hours: Positive | None = None
    include_json_paths: bool = False


# Preview jobs cannot be cancelled: their status is the contract's four values.
PreviewJobStatus = Literal["pending", "running", "completed", "failed"]


class ScanPreviewJobResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: PreviewJobStatus
    started_at: datetime | None
    completed_at: datetime | None
    result_summary: dict[str, Any] | None = Field(
        description="{columns, rows, json_columns} once completed; null while pending/running or on failure"
    )
    error_message: str | None
    created_at: datetime
    updated_at: datetime
