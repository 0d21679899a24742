from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tripl.core.deps import DbSession
from tripl.core.schemas import UtcDatetime
from tripl.workspace.audit import service
from tripl.workspace.audit.schemas import AuditEntryResponse, AuditListResponse
from tripl.workspace.auth.deps import OwnerRead

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditListResponse, summary="List Audit")
def list_audit(
    db: DbSession,
    _: OwnerRead,
    project_slug: str | None = None,
    action: str | None = None,
    user_id: uuid.UUID | None = None,
    user_email: str | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditListResponse:
    entries, total = service.list_entries(
        db,
        service.AuditFilter(project_slug, action, user_id, user_email, since, until),
        limit=limit,
        offset=offset,
    )
    return AuditListResponse(items=[AuditEntryResponse.model_validate(e) for e in entries], total=total)
