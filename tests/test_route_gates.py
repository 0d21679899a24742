"""Every route declares who may call it; a mutating route without a write gate fails here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tripl.app import API_PREFIX, ROUTERS
from tripl.workspace.auth.deps import WRITE_GATES, require_owner_read, require_viewer

PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/status"),
    ("GET", "/health"),
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found = {dependant.call} if dependant.call else set()
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) for every API route: the app's own and those of included routers."""
    own = [(r.path, r) for r in app.router.routes if isinstance(r, APIRoute)]
    mounted = [r for r in app.router.routes if type(r).__name__ == "_IncludedRouter"]
    assert len(mounted) == len(ROUTERS), "include routers through tripl.app.ROUTERS so they are checked"
    included = [
        (API_PREFIX + r.path, r) for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)
    ]
    return own + included


def test_every_route_is_gated(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) > 15
    problems = []
    for path, route in routes:
        calls = _calls(route.dependant)
        for method in route.methods:
            if (method, path) in PUBLIC:
                continue
            if method in MUTATING and not calls & WRITE_GATES:
                problems.append(f"{method} {path} mutates without a write gate")
            if method not in MUTATING and not calls & (WRITE_GATES | {require_viewer, require_owner_read}):
                problems.append(f"{method} {path} has no access gate")
    assert problems == []


def test_public_routes_are_only_the_sign_in_ones(app: FastAPI) -> None:
    paths = {(m, path) for path, r in api_routes(app) for m in r.methods}
    assert paths >= PUBLIC
