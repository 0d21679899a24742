from __future__ import annotations

from tripl.core.context import TriplContext
from tripl.core.jobs import job, periodic_job
from tripl.workspace.auth.service import purge_expired_sessions


@job("auth.purge_expired_sessions")
def purge_expired_sessions_job(ctx: TriplContext) -> int:
    with ctx.db.transaction() as db:
        return purge_expired_sessions(db)


@periodic_job("auth.purge_expired_sessions.hourly", minute="17")
def purge_expired_sessions_hourly(ctx: TriplContext) -> int:
    return purge_expired_sessions_job(ctx)
