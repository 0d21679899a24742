"""Blob deletion tied to the outcome of the database transaction.

A blob is deleted only after the transaction that removed its last photo row commits, so a
rolled-back delete keeps its files; a blob written for a row that never commits is deleted when
the transaction rolls back. Branch copies re-point photo rows at the same blob, so a blob is
only released when no other photo row still names it.

Every code path that deletes photo rows (a photo, an event, an event type, a branch, a project)
calls `release_photo_blobs` with a condition selecting the rows it is about to delete, in the
same transaction and before the delete statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, event, not_, select
from sqlalchemy.orm import Session

from tripl.plan.photos.models import EventPhoto
from tripl.plan.photos.storage import PhotoStore

_INFO_KEY = "tripl.photo_blobs"

Blob = tuple[str | None, str]


@dataclass
class _Pending:
    store: PhotoStore
    on_commit: list[Blob] = field(default_factory=list)
    on_rollback: list[Blob] = field(default_factory=list)


def _pending(db: Session, store: PhotoStore) -> _Pending:
    pending: _Pending | None = db.info.get(_INFO_KEY)
    if pending is None:
        pending = db.info[_INFO_KEY] = _Pending(store)
        event.listen(db, "after_commit", _after_commit)
        event.listen(db, "after_rollback", _after_rollback)
    return pending


def _after_commit(session: Session) -> None:
    pending: _Pending | None = session.info.get(_INFO_KEY)
    if pending is not None:
        blobs, pending.on_commit, pending.on_rollback = pending.on_commit, [], []
        for backend, key in blobs:
            pending.store.delete_quietly(backend, key)


def _after_rollback(session: Session) -> None:
    pending: _Pending | None = session.info.get(_INFO_KEY)
    if pending is not None:
        blobs, pending.on_commit, pending.on_rollback = pending.on_rollback, [], []
        for backend, key in blobs:
            pending.store.delete_quietly(backend, key)


def delete_on_rollback(db: Session, store: PhotoStore, backend: str, key: str) -> None:
    """A blob written for rows of this transaction: removed again if the transaction fails."""
    _pending(db, store).on_rollback.append((backend, key))


def delete_after_commit(db: Session, store: PhotoStore, blobs: Iterable[Blob]) -> None:
    _pending(db, store).on_commit.extend(blobs)


def release_photo_blobs(
    db: Session, store: PhotoStore, doomed: ColumnElement[bool], *, shared: bool = True
) -> int:
    """Schedule deletion, after commit, of the blobs of the photo rows matching `doomed`.

    With `shared`, blobs that photo rows outside `doomed` still reference are kept; a whole
    project passes shared=False (its blobs are never referenced from another project).
    Returns how many blobs were scheduled.
    """
    rows = db.execute(
        select(EventPhoto.storage_backend, EventPhoto.storage_key)
        .where(doomed, EventPhoto.storage_key.is_not(None))
        .distinct()
    ).all()
    blobs = [(backend, key) for backend, key in rows if key]
    if shared and blobs:
        keys = {key for _, key in blobs}
        kept = set(
            db.scalars(select(EventPhoto.storage_key).where(EventPhoto.storage_key.in_(keys), not_(doomed)))
        )
        blobs = [(backend, key) for backend, key in blobs if key not in kept]
    if blobs:
        delete_after_commit(db, store, blobs)
    return len(blobs)


def release_event_photos(db: Session, store: PhotoStore, event_ids: Iterable[uuid.UUID]) -> int:
    """For code deleting events: call before the delete, in the same transaction."""
    ids = list(event_ids)
    return release_photo_blobs(db, store, EventPhoto.event_id.in_(ids)) if ids else 0


def release_project_photos(db: Session, store: PhotoStore, project_id: uuid.UUID) -> int:
    return release_photo_blobs(db, store, EventPhoto.project_id == project_id, shared=False)
