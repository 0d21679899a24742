"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, SessionTransaction
from starlette.concurrency import run_in_threadpool

from tripl.core.context import TriplContext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_context(request: Request) -> TriplContext:
    context: TriplContext = request.app.state.tripl
    return context


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises.

    scope="function" (see DbSession) makes the commit happen before the response is sent, so a
    failed commit is answered as an error instead of after a success was already reported.
    Opening a session does no I/O (the connection is taken at the first statement), so only the
    commit or rollback goes to the thread pool: one hop per request instead of two.
    """
    db = request.app.state.tripl.db
    factory = db.sessions if request.method in SAFE_METHODS else db.write_sessions
    session = factory()
    transaction = session.begin()
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):  # a disconnected client must not leak the connection
            await run_in_threadpool(_end, session, transaction, exc)
        raise
    await run_in_threadpool(_end, session, transaction, None)


def _end(session: Session, transaction: SessionTransaction, error: BaseException | None) -> None:
    """Commit (or roll back on error) like `with session.begin()` would, then close."""
    try:
        transaction.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)
    finally:
        session.close()


Context = Annotated[TriplContext, Depends(get_context)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]
