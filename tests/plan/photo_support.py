"""Shared helpers of the photo tests."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tripl.core.context import TriplContext
from tripl.plan.events.models import Event
from tripl.plan.photos.models import EventPhoto

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def photos_url(event: Event | str, slug: str = "shop") -> str:
    event_id = event.id if isinstance(event, Event) else event
    return f"/api/v1/projects/{slug}/events/{event_id}/photos"


def upload(
    client: TestClient, event: Event, data: bytes, name: str = "shot.png", content_type: str = "image/png"
) -> Any:
    return client.post(photos_url(event), files={"file": (name, data, content_type)})


def uploaded(
    client: TestClient, event: Event, data: bytes | None = None, name: str = "shot.png"
) -> dict[str, Any]:
    response = upload(client, event, data or image_bytes(), name)
    assert response.status_code == 201, response.text
    return dict(response.json())


def stored_path(context: TriplContext, photo: dict[str, Any]) -> Path:
    with context.db.sessions() as db:
        key = db.scalar(select(EventPhoto.storage_key).where(EventPhoto.id == uuid.UUID(photo["id"])))
    assert key is not None
    return context.settings.data_dir / "photos" / key


def count_photos(context: TriplContext) -> int:
    with context.db.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(EventPhoto)) or 0)
