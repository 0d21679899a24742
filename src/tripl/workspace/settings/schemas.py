"""Service settings API shapes. Update bodies are sparse: an omitted key is left alone and an
explicit `null` removes the stored override (the value falls back to environment/default)."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

RegistrationMode = Literal["open", "disabled"]
SmtpSecurity = Literal["none", "starttls", "implicit_tls"]
SettingSource = Literal["env", "override", "default"]

_COOKIE_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _http_url(value: str | None) -> str | None:
    """http(s) URL with a host, or blank (meaning unset)."""
    if value is None or not value.strip():
        return value if value is None else ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    return value.strip()


def _origins(value: str | None) -> str | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item != "*":
            _http_url(item)
    return ",".join(items)


def _cookie_name(value: str | None) -> str | None:
    if value is not None and not _COOKIE_NAME.match(value):
        raise ValueError("must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)")
    return value


def _log_level(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in _LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
    return upper


def _mime_list(value: str | None) -> str | None:
    if value is None:
        return None
    items = [item.strip().lower() for item in value.split(",") if item.strip()]
    if not items or not all(_MIME.match(item) for item in items):
        raise ValueError("must be a comma-separated list of MIME types like image/png")
    return ",".join(items)


def _email_or_blank(value: str | None) -> str | None:
    if value and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value.strip()):
        raise ValueError("must be an e-mail address")
    return value.strip() if value else value


HttpUrl = Annotated[str | None, AfterValidator(_http_url)]
Secret = Annotated[str | None, Field(default=None, max_length=4096)]


class _Update(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuntimeSettings(BaseModel):
    app_base_url: str
    scan_row_limit_default: int
    metrics_row_limit_default: int


class RuntimeSettingsUpdate(_Update):
    app_base_url: HttpUrl = None
    scan_row_limit_default: int | None = Field(default=None, ge=1)
    metrics_row_limit_default: int | None = Field(default=None, ge=1)


class SecuritySettings(BaseModel):
    cors_allow_origins: str
    session_cookie_name: str
    session_ttl_hours: int
    session_cookie_secure: bool
    security_headers_enabled: bool
    hsts_enabled: bool
    hsts_max_age_seconds: int
    content_security_policy: str
    rate_limit_enabled: bool
    rate_limit_login_per_minute: int
    rate_limit_register_per_hour: int
    rate_limit_trust_forwarded_for: bool
    registration_mode: RegistrationMode


class SecuritySettingsUpdate(_Update):
    cors_allow_origins: Annotated[str | None, AfterValidator(_origins)] = None
    session_cookie_name: Annotated[
        str | None, Field(min_length=1, max_length=100), AfterValidator(_cookie_name)
    ] = None
    session_ttl_hours: int | None = Field(default=None, ge=1)
    session_cookie_secure: bool | None = None
    security_headers_enabled: bool | None = None
    hsts_enabled: bool | None = None
    hsts_max_age_seconds: int | None = Field(default=None, ge=0)
    content_security_policy: str | None = Field(default=None, max_length=4096)
    rate_limit_enabled: bool | None = None
    rate_limit_login_per_minute: int | None = Field(default=None, ge=0)
    rate_limit_register_per_hour: int | None = Field(default=None, ge=0)
    rate_limit_trust_forwarded_for: bool | None = None
    registration_mode: RegistrationMode | None = None


class StorageSettings(BaseModel):
    photo_storage_backend: str
    photo_local_dir: str
    photo_max_size_mb: int
    photo_allowed_mime: str
    gcs_photo_bucket: str
    gcs_photo_credentials_path: str
    gcs_photo_public: bool
    gcs_photo_signed_url_ttl_seconds: int


class StorageSettingsUpdate(_Update):
    photo_storage_backend: Literal["local", "gcs"] | None = None
    photo_local_dir: str | None = Field(default=None, max_length=1000)
    photo_max_size_mb: int | None = Field(default=None, ge=1)
    photo_allowed_mime: Annotated[str | None, AfterValidator(_mime_list)] = None
    gcs_photo_bucket: str | None = Field(default=None, max_length=222)
    gcs_photo_credentials_path: str | None = Field(default=None, max_length=1000)
    gcs_photo_public: bool | None = None
    gcs_photo_signed_url_ttl_seconds: int | None = Field(default=None, ge=1)


class ObservabilitySettings(BaseModel):
    request_id_header: str
    log_level: str
    log_json: bool
    prometheus_metrics_enabled: bool
    otel_exporter_otlp_endpoint: str
    otel_service_name: str


class ObservabilitySettingsUpdate(_Update):
    request_id_header: Annotated[
        str | None, Field(min_length=1, max_length=100), AfterValidator(_cookie_name)
    ] = None
    log_level: Annotated[str | None, Field(min_length=1, max_length=20), AfterValidator(_log_level)] = None
    log_json: bool | None = None
    prometheus_metrics_enabled: bool | None = None
    otel_exporter_otlp_endpoint: HttpUrl = None
    otel_service_name: str | None = Field(default=None, min_length=1, max_length=100)


class EmailSettings(BaseModel):
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password_configured: bool
    smtp_security: SmtpSecurity
    smtp_from_address: str


class EmailSettingsUpdate(_Update):
    smtp_host: str | None = Field(default=None, max_length=255)
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: Secret = None
    smtp_security: SmtpSecurity | None = None
    smtp_from_address: Annotated[str | None, AfterValidator(_email_or_blank)] = None


class AiSettings(BaseModel):
    ai_enabled: bool
    ai_base_url: str
    ai_model: str
    ai_api_key_configured: bool
    ai_timeout_seconds: int
    ai_max_output_tokens: int
    describe_system_prompt: str
    ask_system_prompt: str
    alert_explanation_system_prompt: str
    search_embeddings_enabled: bool
    search_embedding_provider: str
    search_embedding_model: str
    search_embedding_api_key_configured: bool
    search_embedding_dimensions: int
    search_embedding_base_url: str


class AiSettingsUpdate(_Update):
    ai_enabled: bool | None = None
    ai_base_url: HttpUrl = None
    ai_model: str | None = Field(default=None, max_length=200)
    ai_api_key: Secret = None
    ai_timeout_seconds: int | None = Field(default=None, ge=1)
    ai_max_output_tokens: int | None = Field(default=None, ge=1)
    describe_system_prompt: str | None = Field(default=None, min_length=1)
    ask_system_prompt: str | None = Field(default=None, min_length=1)
    alert_explanation_system_prompt: str | None = Field(default=None, min_length=1)
    search_embeddings_enabled: bool | None = None
    search_embedding_provider: str | None = Field(default=None, max_length=100)
    search_embedding_model: str | None = Field(default=None, max_length=200)
    search_embedding_api_key: Secret = None


class SystemSettings(BaseModel):
    debug: bool
    database_url_configured: bool
    sync_database_url_configured: bool
    rabbitmq_url_configured: bool
    redis_url_configured: bool
    encryption_key_configured: bool
    openai_api_key_configured: bool
    alembic_revision: str | None = None
    alembic_head_revision: str | None = None
    alembic_up_to_date: bool | None = None


class ServiceSettingsResponse(BaseModel):
    runtime: RuntimeSettings
    security: SecuritySettings
    storage: StorageSettings
    observability: ObservabilitySettings
    email: EmailSettings
    ai: AiSettings
    system: SystemSettings
    overridden_fields: list[str]
    sources: dict[str, SettingSource]


class ServiceSettingsUpdate(_Update):
    runtime: RuntimeSettingsUpdate | None = None
    security: SecuritySettingsUpdate | None = None
    storage: StorageSettingsUpdate | None = None
    observability: ObservabilitySettingsUpdate | None = None
    email: EmailSettingsUpdate | None = None
    ai: AiSettingsUpdate | None = None


class AiSettingsResponse(BaseModel):
    ai: AiSettings
    overridden_fields: list[str]
    sources: dict[str, SettingSource]


class AiSettingsTestRequest(BaseModel):
    prompt: str = Field(
        default="Reply with the word ok if the LLM connection works.", min_length=1, max_length=500
    )


class SettingsTestResponse(BaseModel):
    ok: bool
    message: str
