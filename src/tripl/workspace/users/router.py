from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tripl.core.deps import DbSession
from tripl.workspace.auth.deps import Owner, Viewer
from tripl.workspace.users import service
from tripl.workspace.users.schemas import UserListItem, UserRoleUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserListItem], summary="List Users")
def list_users(
    db: DbSession,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[UserListItem]:
    return [UserListItem.model_validate(u) for u in service.list_users(db, limit=limit, offset=offset)]


@router.patch("/{user_id}", response_model=UserListItem, summary="Update User Role")
def update_user_role(user_id: uuid.UUID, body: UserRoleUpdate, db: DbSession, actor: Owner) -> UserListItem:
    return UserListItem.model_validate(service.change_role(db, actor.user, user_id, body.role))
