from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from tripl.config import Settings
from tripl.core.context import TriplContext
from tripl.core.deps import Context, DbSession
from tripl.core.errors import Forbidden, RateLimited
from tripl.core.http import client_ip, request_origin_allowed
from tripl.workspace.auth import service
from tripl.workspace.auth.deps import Member, Viewer
from tripl.workspace.auth.schemas import AuthStatusResponse, AuthUserResponse, LoginRequest, RegisterRequest
from tripl.workspace.settings.service import effective, registration_mode
from tripl.workspace.users.service import count_users

router = APIRouter(prefix="/auth", tags=["auth"])


def _guard_public_post(request: Request, ctx: TriplContext, bucket: str, limit_key: str, window: int) -> None:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and not request_origin_allowed(request, ctx.settings.trusted_origins):
        raise Forbidden("Cross-site request refused: Origin or Referer must match this site")
    # Owners may change these at runtime (service settings); a limit of 0 means no limit.
    with ctx.db.sessions() as db:
        enabled = effective(db, ctx.settings, "security.rate_limit_enabled")
        limit = int(effective(db, ctx.settings, limit_key))
        trust_forwarded = effective(db, ctx.settings, "security.rate_limit_trust_forwarded_for")
    if not enabled or limit == 0:
        return
    proxies = ctx.settings.trusted_proxies if trust_forwarded else []
    wait = ctx.limiter.hit(bucket, client_ip(request, proxies), limit, window)
    if wait is not None:
        raise RateLimited(wait)


def _set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_ttl_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
    )


@router.post(
    "/register", response_model=AuthUserResponse, status_code=status.HTTP_201_CREATED, summary="Register"
)
def register(
    body: RegisterRequest, request: Request, response: Response, db: DbSession, ctx: Context
) -> AuthUserResponse:
    _guard_public_post(request, ctx, "register", "security.rate_limit_register_per_hour", 3600)
    user = service.register(db, ctx.settings, email=body.email, password=body.password, name=body.name)
    _set_session_cookie(response, ctx.settings, service.start_session(db, ctx.settings, user))
    return AuthUserResponse.model_validate(user)


@router.post("/login", response_model=AuthUserResponse, summary="Login")
def login(body: LoginRequest, request: Request, response: Response, ctx: Context) -> AuthUserResponse:
    _guard_public_post(request, ctx, "login", "security.rate_limit_login_per_minute", 60)
    # Verify in a read-only session: argon2 is slow by design and must not hold a write lock.
    with ctx.db.sessions() as read:
        user, new_hash = service.authenticate(read, email=body.email, password=body.password)
    with ctx.db.transaction() as db:
        token = service.start_session(db, ctx.settings, user, new_hash)
        result = AuthUserResponse.model_validate(user)
    _set_session_cookie(response, ctx.settings, token)
    return result


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Logout")
def logout(request: Request, db: DbSession, ctx: Context, principal: Member) -> Response:
    service.end_session(
        db, ctx.settings, request.cookies.get(ctx.settings.session_cookie_name), principal.user
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        ctx.settings.session_cookie_name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.session_cookie_secure,
    )
    return response


@router.get("/me", response_model=AuthUserResponse, summary="Get Me")
def get_me(principal: Viewer) -> AuthUserResponse:
    return AuthUserResponse.model_validate(principal.user)


@router.get("/status", response_model=AuthStatusResponse, summary="Auth Status")
def auth_status(db: DbSession, ctx: Context) -> AuthStatusResponse:
    """Public: whether the instance has users yet (the next sign-up creates the owner)."""
    has_users = count_users(db) > 0
    return AuthStatusResponse(
        has_users=has_users,
        registration_enabled=not has_users or registration_mode(db, ctx.settings) == "open",
    )
