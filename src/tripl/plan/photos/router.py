from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse

from tripl.core.deps import DbSession
from tripl.plan.photos import comments, service
from tripl.plan.photos.deps import EventDep, PhotoDep, PhotoStoreDep
from tripl.plan.photos.models import PhotoKind
from tripl.plan.photos.schemas import (
    EventPhotoCommentCreate,
    EventPhotoCommentResponse,
    EventPhotoFigmaCreate,
    EventPhotoReorder,
    EventPhotoResponse,
)
from tripl.plan.photos.upload import UPLOAD_OPENAPI, PhotoUpload
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/events/{event_id}/photos", tags=["event-photos"])


@router.get("", response_model=list[EventPhotoResponse], summary="List Event Photos")
def list_event_photos(
    project: ProjectDep, event: EventDep, db: DbSession, _: Viewer
) -> list[EventPhotoResponse]:
    return [service.to_response(project, p) for p in service.list_photos(db, event)]


@router.post(
    "",
    response_model=EventPhotoResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Upload Event Photo",
    openapi_extra=UPLOAD_OPENAPI,
    responses={
        413: {"description": "File too large"},
        415: {"description": "Not a PNG, JPEG, GIF or WebP image"},
    },
)
def upload_event_photo(
    # First, so the body is read before the request takes a database transaction.
    upload: PhotoUpload,
    project: ProjectDep,
    event: EventDep,
    db: DbSession,
    principal: Editor,
    store: PhotoStoreDep,
) -> EventPhotoResponse:
    photo = service.upload_photo(db, principal.user, project, event, store, upload)
    return service.to_response(project, photo)


@router.patch("/reorder", response_model=list[EventPhotoResponse], summary="Reorder Event Photos")
def reorder_event_photos(
    body: EventPhotoReorder, project: ProjectDep, event: EventDep, db: DbSession, principal: Editor
) -> list[EventPhotoResponse]:
    photos = service.reorder_photos(db, principal.user, project, event, body.photo_ids)
    return [service.to_response(project, p) for p in photos]


@router.post(
    "/figma",
    response_model=EventPhotoResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Attach Figma Spec",
)
def attach_figma_spec(
    body: EventPhotoFigmaCreate, project: ProjectDep, event: EventDep, db: DbSession, principal: Editor
) -> EventPhotoResponse:
    photo = service.attach_figma(db, principal.user, project, event, url=body.url, title=body.title)
    return service.to_response(project, photo)


@router.delete("/{photo_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Event Photo")
def delete_event_photo(
    project: ProjectDep, photo: PhotoDep, db: DbSession, principal: Editor, store: PhotoStoreDep
) -> Response:
    service.delete_photo(db, principal.user, project, photo, store)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{photo_id}/file",
    summary="Download Event Photo",
    response_class=Response,
    responses={
        200: {"description": "The stored image", "content": {"image/*": {}}},
        204: {"description": "Figma attachments have no file"},
    },
)
def download_event_photo(photo: PhotoDep, store: PhotoStoreDep, _: Viewer) -> Response:
    if photo.kind == PhotoKind.figma:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    stream = service.open_photo(store, photo)
    headers = {
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if photo.original_filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(photo.original_filename, safe='')}"
    if stream.size is not None:
        headers["Content-Length"] = str(stream.size)
    return StreamingResponse(
        iter(stream), media_type=photo.content_type or "application/octet-stream", headers=headers
    )


@router.get(
    "/{photo_id}/comments", response_model=list[EventPhotoCommentResponse], summary="List Photo Comments"
)
def list_photo_comments(photo: PhotoDep, db: DbSession, _: Viewer) -> list[EventPhotoCommentResponse]:
    return [comments.to_response(c) for c in comments.list_comments(db, photo)]


@router.post(
    "/{photo_id}/comments",
    response_model=EventPhotoCommentResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Create Photo Comment",
)
def create_photo_comment(
    body: EventPhotoCommentCreate, project: ProjectDep, photo: PhotoDep, db: DbSession, principal: Editor
) -> EventPhotoCommentResponse:
    comment = comments.create_comment(
        db, principal.user, project, photo, body=body.body, parent_id=body.parent_id
    )
    return comments.to_response(comment)


@router.delete(
    "/{photo_id}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete Photo Comment",
)
def delete_photo_comment(
    comment_id: uuid.UUID, project: ProjectDep, photo: PhotoDep, db: DbSession, principal: Editor
) -> Response:
    comments.delete_comment(db, principal.user, project, comments.get_comment(db, photo, comment_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
