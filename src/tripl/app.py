"""The ASGI application: routers, error mapping, request ids, health."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tripl.config import Settings
from tripl.core.context import TriplContext, build_context
from tripl.core.errors import DomainError
from tripl.core.reuse import ReuseMiddleware
from tripl.demo.router import router as demo_router
from tripl.observe.data_sources.router import router as data_sources_router
from tripl.observe.metrics.router import router as metrics_router
from tripl.observe.scans.job_router import router as scan_jobs_router
from tripl.observe.scans.router import router as scans_router
from tripl.plan.event_types.router import router as event_types_router
from tripl.plan.events.router import router as events_router
from tripl.plan.fields.router import router as fields_router
from tripl.plan.meta_fields.router import router as meta_fields_router
from tripl.plan.owners.router import router as owners_router
from tripl.plan.photos.router import router as photos_router
from tripl.plan.projects.router import router as projects_router
from tripl.plan.relations.router import router as relations_router
from tripl.plan.variables.router import router as variables_router
from tripl.web_static import mount_web
from tripl.workspace.activity.router import router as activity_router
from tripl.workspace.api_keys.router import router as api_keys_router
from tripl.workspace.audit.router import router as audit_router
from tripl.workspace.auth.router import router as auth_router
from tripl.workspace.settings.router import router as settings_router
from tripl.workspace.users.router import router as users_router

log = logging.getLogger("tripl")

API_PREFIX = "/api/v1"
ROUTERS: list[APIRouter] = [
    auth_router,
    users_router,
    api_keys_router,
    audit_router,
    settings_router,
    demo_router,
    projects_router,
    variables_router,
    photos_router,
    event_types_router,
    fields_router,
    owners_router,
    meta_fields_router,
    relations_router,
    events_router,
    activity_router,
    data_sources_router,
    scans_router,
    scan_jobs_router,
    metrics_router,
]


class RequestIdMiddleware:
    """Echo X-Request-ID (or mint one) on every response; error logs and 500 bodies carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] if incoming and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # Services check uniqueness first; this answers the race where two requests pass that check.
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "The change conflicts with existing data; reload and retry"}, status_code=409
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = _request_id(request)
    log.exception("unhandled error on %s %s [request_id=%s]", request.method, request.url.path, request_id)
    return JSONResponse(
        {"detail": "Internal server error", "request_id": request_id},
        status_code=500,
        headers={"x-request-id": request_id},
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = []
    for err in exc.errors():
        err = dict(err)
        # Pydantic puts the raw exception object in ctx for custom validators; keep it JSON.
        if "ctx" in err:
            err["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
        err.pop("url", None)
        errors.append(err)
    return JSONResponse({"detail": errors}, status_code=422)


def create_app(settings: Settings | None = None, *, context: TriplContext | None = None) -> FastAPI:
    context = context or build_context(settings or Settings())
    start_worker = False

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.start_worker:
            context.queue.start_consumer(context.settings.worker_threads)
        try:
            yield
        finally:
            context.queue.stop_consumer()

    app = FastAPI(
        title="tripl",
        version="0.1.0",
        description="Analytics tracking plan service",
        lifespan=lifespan,
    )
    app.state.tripl = context
    app.state.start_worker = start_worker
    app.add_middleware(ReuseMiddleware, context=context)  # inside RequestIdMiddleware: ids still set
    app.add_middleware(RequestIdMiddleware)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected_error)

    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/health", tags=["health"], summary="Health")
    def health() -> JSONResponse:
        try:
            with context.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("health check: metadata database unreachable", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    mount_web(app)
    return app
