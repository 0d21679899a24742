from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import UserClientFactory
from tests.plan.factories import make_event, make_event_type, make_working_branch
from tests.plan.photo_support import (
    PNG_MAGIC,
    count_photos,
    image_bytes,
    photos_url,
    stored_path,
    upload,
    uploaded,
)
from tripl.core.context import TriplContext
from tripl.plan.events.models import Event
from tripl.plan.photos.models import EventPhotoComment
from tripl.plan.photos.upload import clean_filename
from tripl.workspace.audit.models import AuditEntry


@pytest.fixture
def event(context: TriplContext, project: dict[str, Any]) -> Event:
    event_type, _ = make_event_type(context, project["id"], "screen")
    return make_event(context, event_type, "home")


@pytest.fixture
def other_event(context: TriplContext, owner: TestClient) -> Event:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    event_type, _ = make_event_type(context, other["id"], "screen")
    return make_event(context, event_type, "elsewhere")


def test_upload_stores_the_bytes_under_a_generated_key(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    me = editor.get("/api/v1/auth/me").json()
    data = image_bytes()
    response = upload(editor, event, data, name="../../etc/evil name.png", content_type="text/html")
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["kind"] == "photo" and photo["event_id"] == str(event.id)
    assert photo["content_type"] == "image/png"  # from the bytes, not the client's header
    assert photo["original_filename"] == "evil name.png" and photo["size_bytes"] == len(data)
    assert photo["storage_backend"] == "local" and photo["sort_order"] == 0
    assert photo["url"] == f"{photos_url(event)}/{photo['id']}/file"
    assert photo["external_url"] is None and photo["uploaded_by_user_id"] == me["id"]
    path = stored_path(context, photo)
    assert path.relative_to(context.settings.data_dir / "photos") == Path(
        f"events/{event.id}/{photo['id']}.png"
    )
    assert path.read_bytes() == data

    download = editor.get(photo["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "private, max-age=300"
    assert uploaded(editor, event)["sort_order"] == 1


def test_client_file_names_are_only_labels() -> None:
    assert clean_filename("C:\\Users\\me\\..\\shot.png") == "shot.png"
    assert clean_filename("a\x00b\x1f\x7f.png") == "ab.png"
    assert clean_filename(".htaccess") == "htaccess"
    long = clean_filename("x" * 300 + ".jpeg")
    assert len(long) == 255 and long.endswith(".jpeg")


def test_every_supported_format_gets_its_type_and_extension(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    for fmt, content_type, extension in [
        ("JPEG", "image/jpeg", ".jpg"),
        ("GIF", "image/gif", ".gif"),
        ("WEBP", "image/webp", ".webp"),
    ]:
        photo = uploaded(editor, event, image_bytes(fmt), name="picture.bin")
        assert photo["content_type"] == content_type, fmt
        assert stored_path(context, photo).suffix == extension
        assert editor.get(photo["url"]).headers["content-type"] == content_type


def test_only_real_images_are_accepted(editor: TestClient, event: Event, context: TriplContext) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    bmp = image_bytes("BMP")
    for data in [b"hello, not an image", svg, bmp, PNG_MAGIC + b"\x00" * 40, image_bytes()[:30]]:
        response = upload(editor, event, data, name="x.png", content_type="image/png")
        assert response.status_code == 415, (data[:20], response.text)
    assert upload(editor, event, b"").status_code == 422
    wrong_part = editor.post(photos_url(event), files={"image": ("x.png", image_bytes(), "image/png")})
    assert wrong_part.status_code == 422 and wrong_part.json()["detail"][0]["loc"] == ["body", "file"]
    assert editor.post(photos_url(event), json={"file": "x"}).status_code == 422
    assert count_photos(context) == 0
    assert not (context.settings.data_dir / "photos" / "events" / str(event.id)).exists()


def test_size_limit(
    editor: TestClient, event: Event, context: TriplContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = image_bytes(size=(64, 64))
    monkeypatch.setattr(context.settings, "photo_max_bytes", len(data))
    assert upload(editor, event, data).status_code == 201
    monkeypatch.setattr(context.settings, "photo_max_bytes", len(data) - 1)
    too_big = upload(editor, event, data)
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]

    def chunked() -> Any:  # no Content-Length: the streaming cap decides
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        yield body
        for _ in range(10):
            yield b"\x00" * len(data)
        yield b"\r\n--b--\r\n"

    streamed = editor.post(
        photos_url(event), content=chunked(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status_code == 413
    assert count_photos(context) == 1


def test_figma_links(editor: TestClient, event: Event, context: TriplContext) -> None:
    me = editor.get("/api/v1/auth/me").json()
    url = photos_url(event) + "/figma"
    good = [
        "https://www.figma.com/file/AbC123/Checkout?node-id=1-2",
        "https://figma.com/proto/AbC123/Flow",
        "https://www.figma.com/design/AbC123/Screens",
        "https://figma.com/board/AbC123/Board",
        "https://www.figma.com/community/file/123456/Kit",
    ]
    created = []
    for link in good:
        response = editor.post(url, json={"url": link})
        assert response.status_code == 201, (link, response.text)
        created.append(response.json())
    first = created[0]
    assert first["kind"] == "figma" and first["url"] == good[0] and first["external_url"] == good[0]
    assert first["storage_backend"] is None and first["size_bytes"] == 0 and first["content_type"] == ""
    assert first["title"] == "Figma frame" and first["original_filename"] == "Figma frame"
    assert first["uploaded_by_user_id"] == me["id"]
    assert [p["sort_order"] for p in created] == [0, 1, 2, 3, 4]
    titled = editor.post(url, json={"url": good[1], "title": "Checkout v2"}).json()
    assert titled["title"] == "Checkout v2"
    download = editor.get(f"{photos_url(event)}/{first['id']}/file")
    assert download.status_code == 204 and download.content == b""

    bad = [
        "http://www.figma.com/file/AbC123/x",
        "https://figma.com.evil.example/file/AbC123",
        "https://evil.example/figma.com/file/AbC123",
        "https://www.figma.com/files/AbC123",
        "https://www.figma.com/file/",
        "https://user@figma.com/file/AbC123",
        "https://figma.com:8443/file/AbC123",
        "https://www.figma.com/file/Ab C",
        "javascript:alert(1)//figma.com/file/x",
        "",
        "https://www.figma.com/file/" + "a" * 2000,
    ]
    for link in bad:
        assert editor.post(url, json={"url": link}).status_code == 422, link
    assert editor.post(url, json={"url": good[0], "title": "t" * 501}).status_code == 422
    assert count_photos(context) == 6


def test_list_and_reorder(editor: TestClient, viewer: TestClient, event: Event) -> None:
    a = uploaded(editor, event)
    b = editor.post(photos_url(event) + "/figma", json={"url": "https://figma.com/file/x/y"}).json()
    c = uploaded(editor, event)
    listed = viewer.get(photos_url(event))
    assert [p["id"] for p in listed.json()] == [a["id"], b["id"], c["id"]]

    reorder = photos_url(event) + "/reorder"
    response = editor.patch(reorder, json={"photo_ids": [c["id"], a["id"], b["id"]]})
    assert response.status_code == 200, response.text
    assert [(p["id"], p["sort_order"]) for p in response.json()] == [(c["id"], 0), (a["id"], 1), (b["id"], 2)]
    assert [p["id"] for p in viewer.get(photos_url(event)).json()] == [c["id"], a["id"], b["id"]]

    for ids in (
        [a["id"], b["id"]],
        [a["id"], b["id"], c["id"], a["id"]],
        [a["id"], b["id"], str(uuid.uuid4())],
        [],
    ):
        refused = editor.patch(reorder, json={"photo_ids": ids})
        assert refused.status_code == 400 and "exactly once" in refused.json()["detail"]
    assert editor.patch(reorder, json={"photo_ids": ["nope"]}).status_code == 422
    assert [p["id"] for p in viewer.get(photos_url(event)).json()] == [c["id"], a["id"], b["id"]]


def test_delete_removes_row_comments_and_file(
    editor: TestClient, event: Event, context: TriplContext
) -> None:
    photo = uploaded(editor, event)
    path = stored_path(context, photo)
    comment = editor.post(f"{photos_url(event)}/{photo['id']}/comments", json={"body": "nice"})
    assert comment.status_code == 201
    assert editor.delete(f"{photos_url(event)}/{photo['id']}").status_code == 204
    assert not path.exists()
    assert editor.get(photo["url"]).status_code == 404
    assert editor.delete(f"{photos_url(event)}/{photo['id']}").status_code == 404
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(EventPhotoComment)) == 0
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "event_photo")).all()
    assert sorted(actions) == ["event_photo.create", "event_photo.delete"]


def test_a_missing_file_is_a_404_not_a_crash(editor: TestClient, event: Event, context: TriplContext) -> None:
    photo = uploaded(editor, event)
    stored_path(context, photo).unlink()
    assert editor.get(photo["url"]).status_code == 404
    assert editor.delete(f"{photos_url(event)}/{photo['id']}").status_code == 204


def test_comments_threads(
    editor: TestClient, owner: TestClient, user_client: UserClientFactory, event: Event, context: TriplContext
) -> None:
    photo = uploaded(editor, event)
    second = uploaded(editor, event)
    url = f"{photos_url(event)}/{photo['id']}/comments"
    me = editor.get("/api/v1/auth/me").json()
    top = editor.post(url, json={"body": "Is this the new header?"})
    assert top.status_code == 201, top.text
    top_body = top.json()
    assert top_body["photo_id"] == photo["id"] and top_body["parent_id"] is None
    assert top_body["user_id"] == me["id"] and top_body["body"] == "Is this the new header?"
    reply = owner.post(url, json={"body": "Yes", "parent_id": top_body["id"]}).json()
    nested = editor.post(url, json={"body": "Thanks", "parent_id": reply["id"]}).json()
    listed = editor.get(url).json()
    assert [c["id"] for c in listed] == [top_body["id"], reply["id"], nested["id"]]
    assert listed[1]["parent_id"] == top_body["id"]

    elsewhere = editor.post(f"{photos_url(event)}/{second['id']}/comments", json={"body": "other"}).json()
    for parent in (elsewhere["id"], str(uuid.uuid4())):
        refused = editor.post(url, json={"body": "x", "parent_id": parent})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "parent_id"]
    for body in ("", "   ", "x" * 4001):
        assert editor.post(url, json={"body": body}).status_code == 422
    assert editor.post(url, json={"body": "x" * 4000}).status_code == 201

    other_editor = user_client("editor")
    assert other_editor.delete(f"{url}/{top_body['id']}").status_code == 403
    assert editor.delete(f"{url}/{elsewhere['id']}").status_code == 404  # a comment of another photo
    assert editor.delete(f"{url}/{nested['id']}").status_code == 204  # the author
    assert owner.delete(f"{url}/{top_body['id']}").status_code == 204  # an owner moderates; replies go too
    assert [c["body"] for c in editor.get(url).json()] == ["x" * 4000]
    with context.db.sessions() as db:
        actions = db.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "event_photo_comment")
        ).all()
    assert (
        actions.count("event_photo_comment.create") == 5 and actions.count("event_photo_comment.delete") == 2
    )


def test_roles_keys_projects_and_branches(
    owner: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    event: Event,
    other_event: Event,
    context: TriplContext,
    project: dict[str, Any],
) -> None:
    photo = uploaded(owner, event)
    photo_url = f"{photos_url(event)}/{photo['id']}"
    comment = owner.post(f"{photo_url}/comments", json={"body": "hi"}).json()
    reader = key_client("editor", "read")
    for client in (viewer, reader):
        assert client.get(photos_url(event)).status_code == 200
        assert client.get(photo["url"]).status_code == 200
        assert client.get(f"{photo_url}/comments").status_code == 200
        assert upload(client, event, image_bytes()).status_code == 403
        assert (
            client.post(photos_url(event) + "/figma", json={"url": "https://figma.com/file/x"}).status_code
            == 403
        )
        assert (
            client.patch(photos_url(event) + "/reorder", json={"photo_ids": [photo["id"]]}).status_code == 403
        )
        assert client.delete(photo_url).status_code == 403
        assert client.post(f"{photo_url}/comments", json={"body": "x"}).status_code == 403
        assert client.delete(f"{photo_url}/comments/{comment['id']}").status_code == 403
    assert owner.get(photo["url"].replace("/shop/", "/other/")).status_code == 404
    assert owner.get(photos_url(other_event)).status_code == 404  # another project's event under this slug
    assert upload(owner, other_event, image_bytes()).status_code == 404
    assert owner.get(f"{photos_url(uuid.uuid4().hex)}").status_code == 404
    assert owner.get(f"{photos_url(event)}/{uuid.uuid4()}/file").status_code == 404
    assert count_photos(context) == 1
    assert TestClient(owner.app).get(photos_url(event)).status_code == 401

    # An event id names its branch; ?branch= is optional and, when given, must match.
    branch = make_working_branch(context, project["id"])
    assert owner.get(f"{photos_url(event)}?branch={branch}").status_code == 404
    assert owner.get(f"{photos_url(event)}?branch=bad").status_code == 400
    main_listing = owner.get(f"{photos_url(event)}?branch=")
    assert main_listing.status_code == 200 and len(main_listing.json()) == 1
