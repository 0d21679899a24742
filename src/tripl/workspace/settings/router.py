from __future__ import annotations

from fastapi import APIRouter

from tripl.core.deps import Context, DbSession
from tripl.workspace.auth.deps import Owner, OwnerRead
from tripl.workspace.settings import service
from tripl.workspace.settings.llm import LlmError, chat_completion
from tripl.workspace.settings.schemas import (
    AiSettingsResponse,
    AiSettingsTestRequest,
    AiSettingsUpdate,
    ServiceSettingsResponse,
    ServiceSettingsUpdate,
    SettingsTestResponse,
)

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("", response_model=ServiceSettingsResponse, summary="Get Service Settings")
def get_service_settings(db: DbSession, ctx: Context, _: OwnerRead) -> ServiceSettingsResponse:
    return service.service_settings(db, ctx.settings)


def _update(
    body: ServiceSettingsUpdate, db: DbSession, ctx: Context, principal: Owner
) -> ServiceSettingsResponse:
    changes = {
        section: fields
        for section, fields in body.model_dump(exclude_unset=True).items()
        if fields is not None  # a whole section given as null changes nothing
    }
    service.update(db, ctx.settings, ctx.cipher, principal.user, changes)
    db.flush()
    return service.service_settings(db, ctx.settings)


@router.put("", response_model=ServiceSettingsResponse, summary="Put Service Settings")
def put_service_settings(
    body: ServiceSettingsUpdate, db: DbSession, ctx: Context, principal: Owner
) -> ServiceSettingsResponse:
    """Identical to PATCH: only fields present are stored; an explicit null removes the override."""
    return _update(body, db, ctx, principal)


@router.patch("", response_model=ServiceSettingsResponse, summary="Patch Service Settings")
def patch_service_settings(
    body: ServiceSettingsUpdate, db: DbSession, ctx: Context, principal: Owner
) -> ServiceSettingsResponse:
    """Only fields present are stored; an explicit null removes the override."""
    return _update(body, db, ctx, principal)


@router.get("/ai", response_model=AiSettingsResponse, summary="Get Ai Settings")
def get_ai_settings(db: DbSession, ctx: Context, _: OwnerRead) -> AiSettingsResponse:
    return service.ai_settings(db, ctx.settings)


@router.put("/ai", response_model=AiSettingsResponse, summary="Put Ai Settings")
def put_ai_settings(
    body: AiSettingsUpdate, db: DbSession, ctx: Context, principal: Owner
) -> AiSettingsResponse:
    """Partial upsert: only keys present are applied; an explicit null removes the override."""
    changes = {"ai": body.model_dump(exclude_unset=True)}
    service.update(db, ctx.settings, ctx.cipher, principal.user, changes)
    db.flush()
    return service.ai_settings(db, ctx.settings)


@router.post("/ai/test", response_model=SettingsTestResponse, summary="Test Ai Settings")
def test_ai_settings(
    body: AiSettingsTestRequest, db: DbSession, ctx: Context, _: Owner
) -> SettingsTestResponse:
    """Always 200: a disabled, unconfigured or failing provider is ok=false with the reason."""
    try:
        config = service.ai_config(db, ctx.settings, ctx.cipher)
    except ValueError as exc:
        return SettingsTestResponse(ok=False, message=str(exc))
    # End the request's transaction before the slow outbound call so no lock is held meanwhile.
    db.commit()
    if not config.enabled:
        return SettingsTestResponse(ok=False, message="AI is disabled")
    if not config.base_url or not config.model:
        return SettingsTestResponse(ok=False, message="AI base URL and model must be configured")
    try:
        reply = chat_completion(config, "You are a connection check. Answer briefly.", body.prompt)
    except LlmError as exc:
        return SettingsTestResponse(ok=False, message=str(exc))
    return SettingsTestResponse(ok=True, message=reply.strip()[:1000] or "(empty reply)")
