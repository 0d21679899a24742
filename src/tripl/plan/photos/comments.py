"""Threaded comments on a photo: replies name a parent comment of the same photo."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tripl.core.errors import Forbidden, NotFound, Unprocessable
from tripl.plan.photos.models import EventPhoto, EventPhotoComment
from tripl.plan.photos.schemas import EventPhotoCommentResponse
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User, UserRole


def list_comments(db: Session, photo: EventPhoto) -> list[EventPhotoComment]:
    return list(
        db.scalars(
            select(EventPhotoComment)
            .where(EventPhotoComment.photo_id == photo.id)
            .order_by(EventPhotoComment.created_at, EventPhotoComment.id)
        )
    )


def get_comment(db: Session, photo: EventPhoto, comment_id: uuid.UUID) -> EventPhotoComment:
    comment = db.scalar(
        select(EventPhotoComment).where(
            EventPhotoComment.id == comment_id, EventPhotoComment.photo_id == photo.id
        )
    )
    if comment is None:
        raise NotFound("Comment not found")
    return comment


def _audit(db: Session, actor: User, action: str, project: Project, comment: EventPhotoComment) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="event_photo_comment",
        target_id=comment.id,
        target_name=comment.body[:100],
        project_id=project.id,
        project_slug=project.slug,
        payload={"photo_id": comment.photo_id, "parent_id": comment.parent_id},
    )


def create_comment(
    db: Session, actor: User, project: Project, photo: EventPhoto, *, body: str, parent_id: uuid.UUID | None
) -> EventPhotoComment:
    if parent_id is not None:
        parent = db.scalar(
            select(EventPhotoComment.id).where(
                EventPhotoComment.id == parent_id, EventPhotoComment.photo_id == photo.id
            )
        )
        if parent is None:
            raise Unprocessable("parent_id must be a comment on the same photo", field="parent_id")
    comment = EventPhotoComment(photo_id=photo.id, parent_id=parent_id, user_id=actor.id, body=body)
    db.add(comment)
    db.flush()
    _audit(db, actor, "event_photo_comment.create", project, comment)
    return comment


def delete_comment(db: Session, actor: User, project: Project, comment: EventPhotoComment) -> None:
    """Authors delete their own comments; owners may delete any (moderation). Replies go too."""
    if comment.user_id != actor.id and actor.role != UserRole.owner:
        raise Forbidden("Only the comment's author or an owner can delete it")
    _audit(db, actor, "event_photo_comment.delete", project, comment)
    db.execute(delete(EventPhotoComment).where(EventPhotoComment.id == comment.id))


def to_response(comment: EventPhotoComment) -> EventPhotoCommentResponse:
    return EventPhotoCommentResponse(
        id=comment.id,
        photo_id=comment.photo_id,
        parent_id=comment.parent_id,
        user_id=comment.user_id,
        body=comment.body,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
    )
