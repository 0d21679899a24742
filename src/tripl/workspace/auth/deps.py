"""Who is calling, and may they? Declared per route with the gates at the bottom.

Credentials are checked in the contract's order: an `Authorization: Bearer` API key is
authoritative when present (no fallback to the cookie), else the session cookie. A
project-bound key may only reach routes whose path carries that project's `{slug}`.

Every mutating route must depend on one of WRITE_GATES; tests/test_route_gates.py walks the
app and fails otherwise, so a new route cannot forget its gate.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.deps import SAFE_METHODS, Context, DbSession
from tripl.core.errors import Forbidden, Unauthorized
from tripl.core.http import request_origin_allowed
from tripl.core.read_cache import UNCOUNTED, plan_generation
from tripl.core.reuse import GENERATION_STATE, bearer_token, is_reusable
from tripl.core.security import keyed_hash, sha256_hex
from tripl.plan.projects.models import Project
from tripl.plan.projects.scope import project_with_main_branch
from tripl.workspace.api_keys.models import ApiKey, ApiKeyScope
from tripl.workspace.users.models import User, UserRole, UserSession

log = logging.getLogger(__name__)

API_KEY_PREFIX = "tk_"
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass
class Principal:
    user: User
    api_key: ApiKey | None = None
    reusable_until: datetime | None = None
    """Until when this authentication holds without reading the database again, if nothing is
    written meanwhile: the credential's expiry, for an API key also when its use is next recorded."""

    @property
    def role(self) -> UserRole:
        return self.user.role

    @property
    def can_write(self) -> bool:
        return self.api_key is None or self.api_key.scope == ApiKeyScope.write

    @property
    def bound_project_id(self) -> uuid.UUID | None:
        return self.api_key.project_id if self.api_key else None


async def get_principal(request: Request, db: DbSession, ctx: Context) -> Principal:
    """The caller; on a `/projects/{slug}/…` route also the project, loaded in the same thread hop
    once the caller is known (for `plan.projects.deps.get_project`)."""
    return await run_in_threadpool(_principal_and_project, request, db, ctx)


def _principal_and_project(request: Request, db: Session, ctx: TriplContext) -> Principal:
    if is_reusable(request.scope.get("endpoint")) and not hasattr(request.state, GENERATION_STATE):
        # Before the caller is read, so that an offered response is never newer than its
        # generation (core/reuse.py); ReuseMiddleware may have read it already.
        setattr(request.state, GENERATION_STATE, plan_generation(db))
    principal = _authenticate(request, db, ctx)
    slug = request.path_params.get("slug")
    if slug is not None:
        request.state.project_scope = project_with_main_branch(db, slug)
    return principal


def _authenticate(request: Request, db: Session, ctx: TriplContext) -> Principal:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is not None:
        return _principal_from_api_key(request, db, ctx, token)
    return _principal_from_cookie(request, db, ctx)


def _principal_from_api_key(request: Request, db: Session, ctx: TriplContext, token: str) -> Principal:
    invalid = Unauthorized("Invalid or expired API key")
    if not token.startswith(API_KEY_PREFIX):
        raise invalid
    row = db.execute(
        select(ApiKey, User, Project.slug)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Project, Project.id == ApiKey.project_id)
        .where(ApiKey.token_hash == sha256_hex(token))
    ).first()
    if row is None:
        raise invalid
    key, user, bound_slug = row
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise invalid
    if key.project_id is not None:
        slug = request.path_params.get("slug")
        if slug is None:
            raise Forbidden("API key is scoped to a single project")
        if slug != bound_slug:
            raise Forbidden("API key is not authorized for this project")
    last_used = key.last_used_at
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        if request.method in SAFE_METHODS:
            _touch_last_used(ctx, key.id, now)
            db.expunge(key)  # written by its own transaction; this one stays read-only
        key.last_used_at = last_used = now
    until = last_used + LAST_USED_RESOLUTION
    if key.expires_at is not None:
        until = min(until, key.expires_at)
    return Principal(user=user, api_key=key, reusable_until=until)


def _touch_last_used(ctx: TriplContext, key_id: uuid.UUID, now: datetime) -> None:
    """Record use in a short transaction of its own, so a read request stays a read (on SQLite a
    read that turns into a write mid-transaction fails instead of waiting for the lock)."""
    try:
        with ctx.db.transaction() as db:
            db.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .values(last_used_at=now)
                .execution_options(**UNCOUNTED)  # no cached response shows it
            )
    except OperationalError:
        log.warning("could not record last use of API key %s", key_id, exc_info=True)


def _principal_from_cookie(request: Request, db: Session, ctx: TriplContext) -> Principal:
    token = request.cookies.get(ctx.settings.session_cookie_name)
    if not token:
        raise Unauthorized()
    row = db.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == keyed_hash(ctx.settings.resolved_secret_key, token))
    ).first()
    if row is None or row[0].expires_at <= utcnow():
        raise Unauthorized()
    if request.method not in SAFE_METHODS and not request_origin_allowed(
        request, ctx.settings.trusted_origins
    ):
        raise Forbidden("Cross-site request refused: Origin or Referer must match this site")
    return Principal(user=row[1], reusable_until=row[0].expires_at)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _need_role(principal: Principal, role: UserRole) -> None:
    if principal.role.rank < role.rank:
        raise Forbidden(f"{role.value.capitalize()} role required")


def _need_write(principal: Principal) -> None:
    if not principal.can_write:
        raise Forbidden("API key has read-only scope")


async def require_viewer(principal: CurrentPrincipal) -> Principal:
    """Any signed-in user; read-only."""
    return principal


async def require_viewer_query(principal: CurrentPrincipal) -> Principal:
    """A POST that only reads (a query with a body); read keys may call it."""
    return principal


async def require_member_write(principal: CurrentPrincipal) -> Principal:
    """Any role may change their own things (their API keys, their session)."""
    _need_write(principal)
    return principal


async def require_editor(principal: CurrentPrincipal) -> Principal:
    _need_write(principal)
    _need_role(principal, UserRole.editor)
    return principal


async def require_owner(principal: CurrentPrincipal) -> Principal:
    _need_write(principal)
    _need_role(principal, UserRole.owner)
    return principal


async def require_owner_read(principal: CurrentPrincipal) -> Principal:
    """Owner-only reads (audit log, instance settings)."""
    _need_role(principal, UserRole.owner)
    return principal


Viewer = Annotated[Principal, Depends(require_viewer)]
ViewerQuery = Annotated[Principal, Depends(require_viewer_query)]
Member = Annotated[Principal, Depends(require_member_write)]
Editor = Annotated[Principal, Depends(require_editor)]
Owner = Annotated[Principal, Depends(require_owner)]
OwnerRead = Annotated[Principal, Depends(require_owner_read)]

WRITE_GATES = frozenset({require_member_write, require_editor, require_owner, require_viewer_query})
