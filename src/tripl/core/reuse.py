"""Answering the same caller's repeated GET with the response it got before, without routing.

A route marked `@reusable` reads the generation (see `read_cache.py`) before anything else of the
request, authentication included, and may then `offer` its response together with that generation
and the moment until which the caller's credential needs no database read (the key or session
expiry; for an API key also the next time its use must be recorded). `ReuseMiddleware` answers a
repeat of the same path and query string with the same credential from that offer, after one
database read: the current generation. Anything committed since (a plan change, but also a
revoked key, a changed role, a logout, a deleted project: users, sessions, keys and projects are
all counted) makes it pass the request on to the app, as does an expired entry or a failed read.

This skips what dominates a small cached read: routing, dependency solving, loading the caller
and the project through the ORM, and two of three thread-pool hops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tripl.core.db import utcnow
from tripl.core.read_cache import SizedLru, plan_generation
from tripl.core.security import sha256_hex

if TYPE_CHECKING:
    from tripl.core.context import TriplContext

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
ReuseKey = tuple[str, bytes, str]
GENERATION_STATE = "generation"
"""`request.state` name of the generation a `@reusable` request read before anything else."""


def reusable(endpoint: F) -> F:
    """Mark a GET route whose responses may be offered for reuse (its request reads the
    generation first)."""
    endpoint.reusable = True  # type: ignore[attr-defined]
    return endpoint


def is_reusable(endpoint: object) -> bool:
    return getattr(endpoint, "reusable", False) is True


def bearer_token(authorization: str) -> str | None:
    """The API key of an `Authorization: Bearer …` header, which wins over a session cookie."""
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return authorization[7:].strip()
    return None


def etag_matches(etag: str, if_none_match: str) -> bool:
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates or etag.removeprefix("W/") in candidates


@dataclass(frozen=True)
class ReusableResponse:
    generation: int
    body: bytes
    etag: str
    until: datetime  # past this the request takes the full path again

    def answer(self, if_none_match: str | None) -> Response:
        current = if_none_match is not None and etag_matches(self.etag, if_none_match)
        return validated_json(self.etag, None if current else self.body)


def validated_json(etag: str, body: bytes | None) -> Response:
    """The JSON body under its ETag, or 304 Not Modified when `body` is None (the client's copy
    is current). no-cache: a browser keeps the body but asks again each time."""
    headers = {"etag": etag, "cache-control": "private, no-cache"}
    if body is None:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


class ReusableResponses:
    """The offered responses of one process, by request and credential (an LRU bounded in bytes)."""

    def __init__(self, cookie_name: str, max_bytes: int = 32 * 2**20) -> None:
        self.cookie_name = cookie_name
        self._entries: SizedLru[ReusableResponse] = SizedLru(max_bytes)

    def key(self, conn: HTTPConnection) -> ReuseKey | None:
        """Path, query string and whose credential: the same rule `_authenticate` applies."""
        token = bearer_token(conn.headers.get("authorization", ""))
        credential = f"key:{token}" if token else None
        if credential is None:
            cookie = conn.cookies.get(self.cookie_name)
            credential = f"session:{cookie}" if cookie else None
        if credential is None:
            return None
        return (conn.scope["path"], conn.scope["query_string"], sha256_hex(credential))

    def offer(self, conn: HTTPConnection, response: ReusableResponse) -> None:
        key = self.key(conn)
        if key is not None:
            self._entries.put(key, response, len(response.body))

    def get(self, key: ReuseKey) -> ReusableResponse | None:
        return self._entries.get(key)

    def discard(self, key: ReuseKey) -> None:
        self._entries.discard(key)

    def clear(self) -> None:
        self._entries.clear()


class GenerationReads:
    """Reads the current generation once for all requests waiting at that moment.

    A request joins the next read, one that starts after the request arrived (never one already
    under way, which might predate a write its client has seen committed). Under load one query
    and one thread-pool hop then serve every request that queued during the previous read.
    """

    def __init__(self, read: Callable[[], int | None]) -> None:
        self._read = read
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[int | None] | None = None
        self._reader: asyncio.Task[None] | None = None  # held: the loop keeps only weak references

    async def current(self) -> int | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests start one per client)
            self._loop, self._next, self._reader = loop, None, None
        if self._next is None:
            self._next = loop.create_future()
            if self._reader is None or self._reader.done():
                self._reader = loop.create_task(self._read_while_waited())
        # Shielded: a waiter whose client went away must not cancel the read the others share.
        return await asyncio.shield(self._next)

    async def _read_while_waited(self) -> None:
        while self._next is not None:
            waiting, self._next = self._next, None
            try:
                waiting.set_result(await run_in_threadpool(self._read))
            except Exception as exc:
                waiting.set_exception(exc)


class ReuseMiddleware:
    def __init__(self, app: ASGIApp, context: TriplContext) -> None:
        self.app = app
        self.context = context
        self.generations = GenerationReads(self._generation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        responses = self.context.reusable
        conn = HTTPConnection(scope)
        key = responses.key(conn)
        entry = responses.get(key) if key is not None else None
        if key is None or entry is None or entry.until <= utcnow():
            await self.app(scope, receive, send)
            return
        try:
            generation = await self.generations.current()
        except Exception:  # the full path reports what is wrong with the database
            log.warning("could not read the plan generation", exc_info=True)
            generation = None
        if generation != entry.generation:
            responses.discard(key)
            if generation is not None:  # read before anything of the request: the route's too
                scope.setdefault("state", {})[GENERATION_STATE] = generation
            await self.app(scope, receive, send)
            return
        await entry.answer(conn.headers.get("if-none-match"))(scope, receive, send)

    def _generation(self) -> int | None:
        db = self.context.db
        with db.engine.connect() as connection:
            if db.dialect == "postgresql":  # one statement needs no BEGIN and ROLLBACK round trips
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            return plan_generation(connection)
