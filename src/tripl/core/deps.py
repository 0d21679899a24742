"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> TriplContext:
    context: TriplContext = request.app.state.tripl
    return context


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises.

    scope="function" (see DbSession) makes the commit happen before the response is sent, so a
    failed commit is answered as an error instead of after a success was already reported.
    """
    db = get_context(request).db
    factory = db.sessions if request.method in SAFE_METHODS else db.write_sessions
    with factory() as session, session.begin():
        yield session


Context = Annotated[TriplContext, Depends(get_context)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]
