from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.workspace.api_keys import service
from tripl.workspace.api_keys.schemas import ApiKeyCreate, ApiKeyCreateResponse, ApiKeyResponse
from tripl.workspace.auth.deps import Member, Viewer

router = APIRouter(prefix="/me/api-keys", tags=["api-keys"])


@router.get("", response_model=list[ApiKeyResponse], summary="List Api Keys")
def list_api_keys(db: DbSession, principal: Viewer) -> list[ApiKeyResponse]:
    return [ApiKeyResponse.model_validate(k) for k in service.list_keys(db, principal.user)]


@router.post(
    "", response_model=ApiKeyCreateResponse, status_code=status.HTTP_201_CREATED, summary="Create Api Key"
)
def create_api_key(body: ApiKeyCreate, db: DbSession, principal: Member) -> ApiKeyCreateResponse:
    key, token = service.create_key(
        db,
        principal.user,
        name=body.name,
        scope=body.scope,
        expires_in_days=body.expires_in_days,
        project_slug=body.project_slug,
    )
    return ApiKeyCreateResponse.model_validate(
        {**ApiKeyResponse.model_validate(key).model_dump(), "token": token}
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke Api Key")
def revoke_api_key(key_id: uuid.UUID, db: DbSession, principal: Member) -> Response:
    service.revoke_key(db, principal.user, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
