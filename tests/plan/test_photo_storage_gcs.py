"""The GCS photo backend against a loopback server speaking the GCS JSON API."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.plan.factories import make_event, make_event_type
from tests.plan.fake_gcs import FakeGcs, running_fake_gcs
from tests.plan.photo_support import image_bytes, photos_url, uploaded
from tripl.config import Settings
from tripl.core.context import TriplContext
from tripl.plan.events.models import Event
from tripl.plan.photos import storage
from tripl.plan.photos.deps import get_photo_store
from tripl.plan.photos.storage import BlobMissing, GcsPhotoStorage, PhotoStore, StorageError

BUCKET = "tripl-photos"


@pytest.fixture
def gcs() -> Iterator[FakeGcs]:
    with running_fake_gcs() as server:
        yield server


def gcs_settings(data_dir: Path, gcs: FakeGcs, database_url: str = "sqlite://") -> Settings:
    return make_settings(
        data_dir, database_url, photo_storage_backend="gcs", gcs_bucket=BUCKET, gcs_endpoint=gcs.url
    )


@pytest.fixture
def gcs_store(app: FastAPI, context: TriplContext, gcs: FakeGcs, tmp_path: Path) -> PhotoStore:
    """The app's photo store, configured for GCS (same database, same local data dir)."""
    settings = gcs_settings(context.settings.data_dir, gcs, context.settings.resolved_database_url)
    store = PhotoStore(settings)
    app.dependency_overrides[get_photo_store] = lambda: store
    return store


@pytest.fixture
def event(context: TriplContext, project: dict[str, Any]) -> Event:
    event_type, _ = make_event_type(context, project["id"], "screen")
    return make_event(context, event_type, "home")


def test_backend_round_trip(gcs: FakeGcs, tmp_path: Path) -> None:
    backend = PhotoStore(gcs_settings(tmp_path, gcs)).default
    assert isinstance(backend, GcsPhotoStorage)
    small, big = os.urandom(3 * 1024 * 1024 + 17), os.urandom(9 * 1024 * 1024)  # big: a resumable upload
    for key, data in [("events/e1/p1.png", small), ("events/e1/p2.png", big)]:
        backend.save(key, io.BytesIO(data), len(data), "image/png")
        assert gcs.objects[(BUCKET, key)].data == data
        assert gcs.objects[(BUCKET, key)].content_type == "image/png"
        stream = backend.open(key)
        assert stream.size == len(data) and b"".join(stream) == data
    with pytest.raises(StorageError):  # a key is never overwritten
        backend.save("events/e1/p1.png", io.BytesIO(b"other"), 5, "image/png")
    assert gcs.objects[(BUCKET, "events/e1/p1.png")].data == small
    backend.delete("events/e1/p1.png")
    backend.delete("events/e1/p1.png")  # already gone: fine
    assert (BUCKET, "events/e1/p1.png") not in gcs.objects
    with pytest.raises(BlobMissing):
        backend.open("events/e1/p1.png")
    with pytest.raises(StorageError):
        backend.open("../outside")


def test_outage_fails_fast_with_a_storage_error(
    gcs: FakeGcs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "GCS_RETRY_DEADLINE", 0.3)
    backend = PhotoStore(gcs_settings(tmp_path, gcs)).default
    gcs.fail_with = 503
    with pytest.raises(StorageError):
        backend.save("events/e/p.png", io.BytesIO(b"x"), 1, "image/png")
    with pytest.raises(StorageError):
        backend.open("events/e/p.png")
    assert PhotoStore(gcs_settings(tmp_path, gcs)).delete_quietly("gcs", "events/e/p.png") is False


def test_gcs_needs_a_bucket(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite://", photo_storage_backend="gcs")
    with pytest.raises(StorageError, match="TRIPL_GCS_BUCKET"):
        _ = PhotoStore(settings).default


def test_upload_download_and_delete_through_the_api(
    editor: TestClient, event: Event, gcs: FakeGcs, gcs_store: PhotoStore
) -> None:
    data = image_bytes("JPEG")
    photo = uploaded(editor, event, data, name="shot.jpg")
    key = f"events/{event.id}/{photo['id']}.jpg"
    assert photo["storage_backend"] == "gcs" and photo["content_type"] == "image/jpeg"
    assert photo["url"] == f"{photos_url(event)}/{photo['id']}/file"  # served by the API, authenticated
    assert gcs.objects[(BUCKET, key)].data == data
    download = editor.get(photo["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-length"] == str(len(data))
    assert download.headers["x-content-type-options"] == "nosniff"
    assert TestClient(editor.app).get(photo["url"]).status_code == 401

    assert editor.delete(f"{photos_url(event)}/{photo['id']}").status_code == 204
    assert (BUCKET, key) not in gcs.objects
    assert editor.get(photo["url"]).status_code == 404


def test_project_delete_removes_gcs_objects(
    owner: TestClient, event: Event, gcs: FakeGcs, gcs_store: PhotoStore
) -> None:
    for _ in range(2):
        uploaded(owner, event)
    assert len(gcs.objects) == 2
    assert owner.delete("/api/v1/projects/shop").status_code == 204
    assert gcs.objects == {}


def test_upload_during_an_outage_is_503_without_a_row(
    editor: TestClient, event: Event, gcs: FakeGcs, gcs_store: PhotoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "GCS_RETRY_DEADLINE", 0.3)
    gcs.fail_with = 503
    response = editor.post(photos_url(event), files={"file": ("a.png", image_bytes(), "image/png")})
    assert response.status_code == 503
    gcs.fail_with = None
    assert editor.get(photos_url(event)).json() == []


def test_photos_stay_readable_after_switching_to_gcs(
    editor: TestClient, event: Event, app: FastAPI, context: TriplContext, gcs: FakeGcs, tmp_path: Path
) -> None:
    local = uploaded(editor, event)
    app.dependency_overrides[get_photo_store] = lambda: PhotoStore(
        gcs_settings(context.settings.data_dir, gcs, context.settings.resolved_database_url)
    )
    remote = uploaded(editor, event)
    listed = editor.get(photos_url(event)).json()
    assert [p["storage_backend"] for p in listed] == ["local", "gcs"]
    for photo in (local, remote):
        assert editor.get(photo["url"]).content[:8] == b"\x89PNG\r\n\x1a\n"
