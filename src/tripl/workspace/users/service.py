from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Invalid, NotFound
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User, UserRole, UserSession


def list_users(db: Session, *, limit: int, offset: int) -> list[User]:
    return list(db.scalars(select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)))


def get_user(db: Session, user_id: uuid.UUID) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def change_role(db: Session, actor: User, user_id: uuid.UUID, role: UserRole) -> User:
    user = db.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("User not found")
    if user.role == role:
        return user
    if user.role == UserRole.owner:
        # Lock every owner row so two owners demoting each other cannot both succeed.
        owners = db.scalars(select(User.id).where(User.role == UserRole.owner).with_for_update()).all()
        if len(owners) <= 1:
            raise Invalid("Cannot demote the last owner")
    previous = user.role
    user.role = role
    # A changed role takes effect now: signed-in browsers must sign in again.
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    audit.record(
        db,
        actor,
        "user.role_update",
        target_type="user",
        target_id=user.id,
        target_name=user.email,
        payload={"from": previous.value, "to": role.value},
    )
    return user
