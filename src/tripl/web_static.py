"""Serve the built web UI (src/tripl/web, built from frontend/) at "/".

Files that exist are served as they are: Vite's content-hashed files under /assets/ are cached for a year,
everything else must be revalidated. Any other GET outside the API answers index.html so the browser
router can render client routes (/p/shop/events) on a reload. Unknown /api/ paths keep their JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

WEB_DIR = Path(__file__).parent / "web"
HASHED_ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NOT_BUILT = (
    "<!doctype html><title>tripl</title><h1>The web UI is not built</h1>"
    "<p>Run <code>./tripl.sh serve</code> (it builds the UI when Node.js is available) or "
    "<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>. The API is at "
    '<a href="/docs">/docs</a>.</p>'
)
# Paths the SPA must never swallow: they belong to the API or to FastAPI's own pages.
RESERVED_PREFIXES = ("api/", "docs", "redoc", "openapi.json", "health")


def _file_in(root: Path, relative: str) -> Path | None:
    """The file at `relative` inside `root`, or None (missing, a directory, or outside root)."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def mount_web(app: FastAPI, web_dir: Path = WEB_DIR) -> None:
    """Answer GET/HEAD requests that no route matched with the UI.

    A 404 handler rather than a catch-all route: routes registered later still match, and the
    route-gate test sees only API routes (the UI shell is public by design; the API it calls is not).
    """

    async def not_found(request: Request, exc: Exception) -> Response:
        path = request.url.path.lstrip("/")
        detail = getattr(exc, "detail", "Not Found")
        api_404 = JSONResponse({"detail": detail}, status_code=404, headers=getattr(exc, "headers", None))
        if request.method not in ("GET", "HEAD") or path == "api" or path.startswith(RESERVED_PREFIXES):
            return api_404
        found = _file_in(web_dir, path) if path else None
        if found is not None:
            cache = IMMUTABLE if path.startswith(HASHED_ASSETS) else REVALIDATE
            return FileResponse(found, headers={"Cache-Control": cache})
        if path.startswith(HASHED_ASSETS):
            # A stale page asking for an asset of an older build: a 404, not index.html as JavaScript.
            return api_404
        index = web_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": REVALIDATE})
        return FileResponse(index, headers={"Cache-Control": REVALIDATE})

    app.add_exception_handler(404, not_found)
