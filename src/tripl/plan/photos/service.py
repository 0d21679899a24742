from __future__ import annotations

import re
import uuid
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Invalid, NotFound, Unavailable, Unprocessable
from tripl.plan.branches.service import resolve_branch
from tripl.plan.events.models import Event
from tripl.plan.photos import cleanup
from tripl.plan.photos.models import EventPhoto, PhotoKind
from tripl.plan.photos.schemas import EventPhotoResponse, StorageBackendName
from tripl.plan.photos.storage import BlobMissing, BlobStream, PhotoStore, StorageError
from tripl.plan.photos.upload import ReceivedFile, clean_filename, inspect_image
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User

FIGMA_HOSTS = frozenset({"figma.com", "www.figma.com"})
FIGMA_PATH = re.compile(r"^/(?:file|proto|design|board|community/file)/[^/\s]+")
FIGMA_DEFAULT_TITLE = "Figma frame"


def get_event(db: Session, project: Project, event_id: uuid.UUID, branch_ref: str | None) -> Event:
    """The event the photo routes act on. An event id already names its branch, so `?branch=` is
    optional here; when given, the event must be on that branch."""
    query = select(Event).where(Event.id == event_id, Event.project_id == project.id)
    if branch_ref:
        query = query.where(Event.branch_id == resolve_branch(db, project, branch_ref).id)
    event = db.scalar(query)
    if event is None:
        raise NotFound("Event not found")
    return event


def list_photos(db: Session, event: Event) -> list[EventPhoto]:
    return list(
        db.scalars(
            select(EventPhoto)
            .where(EventPhoto.event_id == event.id)
            .order_by(EventPhoto.sort_order, EventPhoto.created_at, EventPhoto.id)
        )
    )


def get_photo(db: Session, event: Event, photo_id: uuid.UUID) -> EventPhoto:
    photo = db.scalar(select(EventPhoto).where(EventPhoto.id == photo_id, EventPhoto.event_id == event.id))
    if photo is None:
        raise NotFound("Photo not found")
    return photo


def _next_sort_order(db: Session, event: Event) -> int:
    current = db.scalar(select(func.max(EventPhoto.sort_order)).where(EventPhoto.event_id == event.id))
    return 0 if current is None else current + 1


def _audit(
    db: Session, actor: User, action: str, project: Project, photo: EventPhoto, **payload: object
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="event_photo",
        target_id=photo.id,
        target_name=photo.title or photo.original_filename,
        project_id=project.id,
        project_slug=project.slug,
        payload={"event_id": photo.event_id, **payload},
    )


def upload_photo(
    db: Session, actor: User, project: Project, event: Event, store: PhotoStore, received: ReceivedFile
) -> EventPhoto:
    if received.size == 0:
        raise Unprocessable("The file is empty", field="file")
    image = inspect_image(received.file, store.allowed_content_types)
    photo_id = uuid.uuid4()
    key = f"events/{event.id}/{photo_id}{image.extension}"
    photo = EventPhoto(
        id=photo_id,
        event_id=event.id,
        project_id=project.id,
        kind=PhotoKind.photo,
        original_filename=clean_filename(received.filename),
        content_type=image.content_type,
        size_bytes=received.size,
        storage_backend=store.default_name,
        storage_key=key,
        sort_order=_next_sort_order(db, event),
        title="",
        uploaded_by_user_id=actor.id,
    )
    db.add(photo)
    db.flush()
    try:
        backend = store.default
        # Registered first: whatever fails from here on (the write, the audit row, the commit)
        # rolls back the row and removes the blob with it.
        cleanup.delete_on_rollback(db, store, backend.name, key)
        backend.save(key, received.file, received.size, image.content_type)
    except StorageError as exc:
        raise Unavailable("Photo storage is unavailable") from exc
    _audit(
        db,
        actor,
        "event_photo.create",
        project,
        photo,
        kind="photo",
        content_type=image.content_type,
        size_bytes=received.size,
        original_filename=photo.original_filename,
    )
    return photo


def check_figma_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if (
        any(ch.isspace() or not ch.isprintable() for ch in url)
        or parts.scheme != "https"
        or parts.netloc.lower() not in FIGMA_HOSTS
        or not FIGMA_PATH.match(parts.path)
    ):
        raise Unprocessable(
            "Must be a Figma link: https://(www.)figma.com/(file|proto|design|board|community/file)/...",
            field="url",
        )
    return url


def attach_figma(
    db: Session, actor: User, project: Project, event: Event, *, url: str, title: str
) -> EventPhoto:
    link = check_figma_url(url)
    title = title.strip() or FIGMA_DEFAULT_TITLE
    photo = EventPhoto(
        event_id=event.id,
        project_id=project.id,
        kind=PhotoKind.figma,
        original_filename=title[:255],
        content_type="",
        size_bytes=0,
        storage_backend=None,
        storage_key=None,
        external_url=link,
        sort_order=_next_sort_order(db, event),
        title=title,
        uploaded_by_user_id=actor.id,
    )
    db.add(photo)
    db.flush()
    _audit(db, actor, "event_photo.create", project, photo, kind="figma", external_url=link, title=title)
    return photo


def reorder_photos(
    db: Session, actor: User, project: Project, event: Event, photo_ids: list[uuid.UUID]
) -> list[EventPhoto]:
    photos = list_photos(db, event)
    if len(photo_ids) != len(set(photo_ids)) or set(photo_ids) != {p.id for p in photos}:
        raise Invalid("photo_ids must list every photo of the event exactly once")
    by_id = {p.id: p for p in photos}
    for position, photo_id in enumerate(photo_ids):
        by_id[photo_id].sort_order = position
    db.flush()
    audit.record(
        db,
        actor,
        "event_photo.reorder",
        target_type="event",
        target_id=event.id,
        target_name=event.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"photo_ids": photo_ids},
    )
    return [by_id[photo_id] for photo_id in photo_ids]


def delete_photo(db: Session, actor: User, project: Project, photo: EventPhoto, store: PhotoStore) -> None:
    """Delete the row (and its comments); the blob goes once the transaction has committed."""
    _audit(db, actor, "event_photo.delete", project, photo, kind=photo.kind)
    cleanup.release_photo_blobs(db, store, EventPhoto.id == photo.id)
    db.execute(delete(EventPhoto).where(EventPhoto.id == photo.id))


def open_photo(store: PhotoStore, photo: EventPhoto) -> BlobStream:
    """The stored bytes; NotFound when the blob is gone, Unavailable when storage fails."""
    if photo.storage_key is None:
        raise NotFound("Photo has no stored file")
    try:
        return store.backend(photo.storage_backend).open(photo.storage_key)
    except BlobMissing:
        raise NotFound("Photo file not found") from None
    except StorageError as exc:
        raise Unavailable("Photo storage is unavailable") from exc


def file_path(project: Project, photo: EventPhoto) -> str:
    return f"/api/v1/projects/{project.slug}/events/{photo.event_id}/photos/{photo.id}/file"


def to_response(project: Project, photo: EventPhoto) -> EventPhotoResponse:
    is_figma = photo.kind == PhotoKind.figma
    return EventPhotoResponse(
        id=photo.id,
        event_id=photo.event_id,
        project_id=photo.project_id,
        kind=photo.kind,
        original_filename=photo.original_filename,
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        storage_backend=cast(StorageBackendName | None, photo.storage_backend),
        sort_order=photo.sort_order,
        url=(photo.external_url or "") if is_figma else file_path(project, photo),
        external_url=photo.external_url,
        uploaded_by_user_id=photo.uploaded_by_user_id,
        created_at=photo.created_at,
        title=photo.title,
    )
