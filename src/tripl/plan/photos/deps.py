"""Route dependencies of the photo routes: the photo store, the event and the photo of the path."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from tripl.core.deps import Context, DbSession
from tripl.plan.events.models import Event
from tripl.plan.photos import service
from tripl.plan.photos.models import EventPhoto
from tripl.plan.photos.storage import PhotoStore
from tripl.plan.projects.deps import ProjectDep


def get_photo_store(request: Request, ctx: Context) -> PhotoStore:
    """One store per app (it holds the GCS client), built from the app's settings."""
    store: PhotoStore | None = getattr(request.app.state, "photo_store", None)
    if store is None or store.settings is not ctx.settings:
        store = PhotoStore(ctx.settings)
        request.app.state.photo_store = store
    return store


PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]


def get_event(
    event_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    branch: Annotated[
        str | None, Query(description="Plan branch id; when given, the event must be on that branch")
    ] = None,
) -> Event:
    return service.get_event(db, project, event_id, branch)


EventDep = Annotated[Event, Depends(get_event)]


def get_photo(photo_id: uuid.UUID, event: EventDep, db: DbSession) -> EventPhoto:
    return service.get_photo(db, event, photo_id)


PhotoDep = Annotated[EventPhoto, Depends(get_photo)]
