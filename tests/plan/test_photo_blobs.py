"""Stored photo files follow the database: removed after a committed delete, kept after a rolled
back one, removed again when the row they were written for never commits."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from tests.plan.factories import make_event, make_event_type
from tests.plan.photo_support import image_bytes, photos_url, stored_path, uploaded
from tripl.core.context import TriplContext
from tripl.core.errors import PayloadTooLarge
from tripl.plan.events.models import Event
from tripl.plan.photos import service as photos
from tripl.plan.photos.cleanup import release_event_photos
from tripl.plan.photos.models import EventPhoto, PhotoKind
from tripl.plan.photos.storage import LocalPhotoStorage, PhotoStore, StorageError
from tripl.plan.photos.upload import ReceivedFile, receive_photo
from tripl.plan.projects import service as projects
from tripl.plan.projects.models import Project
from tripl.workspace.users.models import User


@pytest.fixture
def event(context: TriplContext, project: dict[str, Any]) -> Event:
    event_type, _ = make_event_type(context, project["id"], "screen")
    return make_event(context, event_type, "home")


def photo_count(context: TriplContext) -> int:
    with context.db.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(EventPhoto)) or 0)


def owner_user(db: Any) -> User:
    return db.scalars(select(User).where(User.email == "owner@example.com")).one()


def test_project_delete_removes_its_files_only(
    owner: TestClient, event: Event, context: TriplContext
) -> None:
    mine = [stored_path(context, uploaded(owner, event)) for _ in range(2)]
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    other_type, _ = make_event_type(context, other["id"], "screen")
    other_event = make_event(context, other_type, "elsewhere")
    response = owner.post(
        photos_url(other_event, "other"), files={"file": ("a.png", image_bytes(), "image/png")}
    )
    kept = stored_path(context, response.json())
    assert all(p.exists() for p in [*mine, kept])
    assert owner.delete("/api/v1/projects/shop").status_code == 204
    assert not any(p.exists() for p in mine) and kept.exists()
    assert photo_count(context) == 1


def test_rolled_back_deletes_keep_their_files(owner: TestClient, event: Event, context: TriplContext) -> None:
    photo = uploaded(owner, event)
    path = stored_path(context, photo)
    store = PhotoStore(context.settings)
    for delete_it in (
        lambda db, user: photos.delete_photo(
            db, user, db.get(Project, event.project_id), db.get(EventPhoto, uuid.UUID(photo["id"])), store
        ),
        lambda db, user: projects.delete_project(db, user, db.get(Project, event.project_id), store),
    ):
        with pytest.raises(RuntimeError), context.db.transaction() as db:
            delete_it(db, owner_user(db))
            assert db.scalar(select(func.count()).select_from(EventPhoto)) == 0
            raise RuntimeError("something later in the request failed")
        assert path.exists() and photo_count(context) == 1
    assert owner.get(photo["url"]).content == path.read_bytes()


def test_the_file_goes_when_the_row_never_commits(
    owner: TestClient, event: Event, context: TriplContext
) -> None:
    store = PhotoStore(context.settings)
    data = image_bytes()
    written: list[Path] = []
    with pytest.raises(IntegrityError), context.db.transaction() as db:
        photo = photos.upload_photo(
            db,
            owner_user(db),
            db.get(Project, event.project_id),
            db.get(Event, event.id),
            store,
            ReceivedFile(io.BytesIO(data), len(data), "a.png"),
        )
        assert photo.storage_key is not None
        written.append(context.settings.data_dir / "photos" / photo.storage_key)
        assert written[0].read_bytes() == data
        # Something else in the same transaction breaks a foreign key: the commit fails.
        db.add(EventPhoto(event_id=uuid.uuid4(), project_id=event.project_id, kind=PhotoKind.figma))
    assert not written[0].exists() and photo_count(context) == 0


def test_storage_failure_answers_503_and_keeps_no_row(
    editor: TestClient, event: Event, context: TriplContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(LocalPhotoStorage, "save", broken)
    response = editor.post(photos_url(event), files={"file": ("a.png", image_bytes(), "image/png")})
    assert response.status_code == 503 and response.json() == {"detail": "Photo storage is unavailable"}
    assert photo_count(context) == 0


def test_a_blob_shared_by_branch_copies_stays_until_the_last_row_goes(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    photo = uploaded(editor, event)
    path = stored_path(context, photo)
    copy_event = make_event(context, make_event_type(context, event.project_id, "copy")[0], "home copy")
    with context.db.transaction() as db:  # what a branch copy does: a new row, the same blob
        original = db.get(EventPhoto, uuid.UUID(photo["id"]))
        assert original is not None
        copy = EventPhoto(
            event_id=copy_event.id,
            project_id=original.project_id,
            kind=original.kind,
            content_type=original.content_type,
            size_bytes=original.size_bytes,
            storage_backend=original.storage_backend,
            storage_key=original.storage_key,
        )
        db.add(copy)
    assert editor.delete(f"{photos_url(event)}/{photo['id']}").status_code == 204
    assert path.exists()
    assert editor.get(f"{photos_url(copy_event)}/{copy.id}/file").content == path.read_bytes()
    assert editor.delete(f"{photos_url(copy_event)}/{copy.id}").status_code == 204
    assert not path.exists()


def test_deleting_events_releases_their_files(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    paths = [stored_path(context, uploaded(editor, event)) for _ in range(2)]
    store = PhotoStore(context.settings)
    with pytest.raises(RuntimeError), context.db.transaction() as db:
        assert release_event_photos(db, store, [event.id]) == 2
        db.execute(delete(Event).where(Event.id == event.id))
        raise RuntimeError("rolled back")
    assert all(p.exists() for p in paths)
    with context.db.transaction() as db:
        release_event_photos(db, store, [event.id])
        db.execute(delete(Event).where(Event.id == event.id))
    assert not any(p.exists() for p in paths) and photo_count(context) == 0


def test_deleting_an_event_type_releases_its_events_files(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    paths = [stored_path(context, uploaded(editor, event)) for _ in range(2)]
    response = editor.delete(f"/api/v1/projects/shop/event-types/{event.event_type_id}")
    assert response.status_code == 204
    assert not any(p.exists() for p in paths) and photo_count(context) == 0


def test_an_endless_upload_is_cut_off_at_the_limit() -> None:
    limit, chunk = 100_000, b"\x00" * 16_384
    pulled = 0
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": head if pulled == 1 else chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }
    ctx = SimpleNamespace(settings=SimpleNamespace(photo_max_bytes=limit))

    async def read() -> None:
        async for _ in receive_photo(Request(scope, receive), ctx):  # type: ignore[arg-type]
            raise AssertionError("an endless upload must not be accepted")

    with pytest.raises(PayloadTooLarge):
        asyncio.run(read())
    assert pulled <= limit // len(chunk) + 3
