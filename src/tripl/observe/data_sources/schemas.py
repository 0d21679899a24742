from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripl.core.schemas import refuse_null
from tripl.observe.data_sources.models import TestStatus
from tripl.observe.warehouse.base import DBType
from tripl.plan.fields.rules import Text

Name = Annotated[Text, Field(min_length=1, max_length=255)]
Host = Annotated[Text, Field(min_length=1, max_length=500)]
Port = Annotated[int, Field(ge=1, le=65535)]
DatabaseName = Annotated[Text, Field(min_length=1, max_length=255)]
Username = Annotated[Text, Field(max_length=255)]
Timeout = Annotated[int, Field(ge=1, le=86_400)]


class DataSourceCreate(BaseModel):
    name: Name
    db_type: DBType
    host: Host
    port: Port = 8123
    database_name: DatabaseName = Field(
        description="Database (PostgreSQL/ClickHouse), project (BigQuery) or, for duckdb, a file path "
        "inside <data_dir>/warehouses/"
    )
    username: Username = ""
    password: Text = Field(default="", description="Stored encrypted, never returned")
    timeout_seconds: Timeout | None = None
    extra_params: dict[str, Any] | None = Field(
        default=None,
        description="Engine options. Secret keys (credentials_json, service_account_json, private_key, "
        "anything named like password/secret/token) are stored encrypted and never returned",
    )


class DataSourceUpdate(BaseModel):
    name: Name | None = None
    db_type: DBType | None = None
    host: Host | None = None
    port: Port | None = None
    database_name: DatabaseName | None = None
    username: Username | None = None
    password: Text | None = Field(default=None, description="Omitted or null keeps the stored password")
    timeout_seconds: Timeout | None = None
    extra_params: dict[str, Any] | None = Field(
        default=None,
        description="Replaces the stored options. Secret keys are changed only when named: a string "
        "replaces the stored secret, null or an empty string removes it",
    )

    @field_validator("name", "db_type", "host", "port", "database_name", "username")
    @classmethod
    def not_null(cls, value: object) -> object:
        return refuse_null(value)


class DataSourceResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    db_type: DBType
    host: str
    port: int
    database_name: str
    username: str
    password_set: bool
    timeout_seconds: int | None
    extra_params: dict[str, Any] | None
    last_test_at: datetime | None
    last_test_status: TestStatus | None
    last_test_message: str | None
    created_at: datetime
    updated_at: datetime
    secret_params_set: list[str] = Field(
        default_factory=list, description="Names of the secret extra parameters stored (values never shown)"
    )


class DataSourceTestResponse(BaseModel):
    success: bool
    message: str
    tested_at: datetime
    data_source: DataSourceResponse


class ColumnSchema(BaseModel):
    name: str
    data_type: str


class TableSchema(BaseModel):
    name: str
    columns: list[ColumnSchema]


class DataSourceSchemaResponse(BaseModel):
    tables: list[TableSchema]


class DataSourceThroughputPoint(BaseModel):
    bucket: datetime
    count: int


class DataSourceStatsResponse(BaseModel):
    events_tracked: int
    volume_window: int
    window_hours: int
    throughput: list[DataSourceThroughputPoint]
