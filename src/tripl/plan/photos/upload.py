"""Receiving an uploaded photo: a capped streaming multipart read, then a look at the bytes.

The multipart body is parsed as it arrives and the `file` part is spooled (memory, then a
temporary file); the read stops with 413 as soon as the part passes `photo_max_bytes`, so an
oversized upload is never stored whole. The client's content type and file name are not
trusted: Pillow decides what the bytes are.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, Annotated, Any

from fastapi import Depends, Request
from PIL import Image
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from tripl.core.deps import Context
from tripl.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

# Room for the multipart envelope (boundaries, part headers) on top of the file itself.
ENVELOPE_ALLOWANCE = 64 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
# Pillow format -> (content type, file extension)
IMAGE_FORMATS = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "title": "EventPhotoUpload",
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"title": "File", "type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@dataclass
class ReceivedFile:
    file: IO[bytes]
    size: int
    filename: str


@dataclass
class _FilePartCollector:
    limit: int
    file: IO[bytes] | None = None
    size: int = 0
    filename: str = ""
    too_large: bool = False
    _header_field: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _disposition: bytes = b""
    _receiving: bool = False

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        # Only the first part named "file" is kept; anything else is read past and dropped.
        if options.get(b"name") == b"file" and self.file is None:
            self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self._receiving = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._receiving or self.file is None or self.too_large:
            return
        self.size += end - start
        if self.size > self.limit:
            self.too_large = True
            return
        self.file.write(data[start:end])

    def _part_end(self) -> None:
        self._receiving = False


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Photo is larger than the limit of {limit} bytes")


async def receive_photo(request: Request, ctx: Context) -> AsyncIterator[ReceivedFile]:
    """Dependency: the `file` part of a multipart upload, at most `photo_max_bytes` long."""
    limit = ctx.settings.photo_max_bytes
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise Unprocessable("Expected a multipart/form-data body with a 'file' part", field="file")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_ALLOWANCE:
        raise _too_large(limit)
    collector = _FilePartCollector(limit)
    try:
        parser = MultipartParser(options[b"boundary"], collector.callbacks())
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + ENVELOPE_ALLOWANCE:
                raise _too_large(limit)
            parser.write(chunk)
            if collector.too_large:
                raise _too_large(limit)
        parser.finalize()
        if collector.file is None:
            raise Unprocessable("Field required", field="file")
        collector.file.seek(0)
        yield ReceivedFile(collector.file, collector.size, collector.filename)
    except MultipartParseError:
        raise Unprocessable("Malformed multipart body", field="file") from None
    finally:
        if collector.file is not None:
            collector.file.close()


PhotoUpload = Annotated[ReceivedFile, Depends(receive_photo)]


@dataclass(frozen=True)
class ImageKind:
    content_type: str
    extension: str


def inspect_image(data: IO[bytes], allowed: frozenset[str]) -> ImageKind:
    """What the bytes are, by Pillow's reading of them: PNG, JPEG, GIF or WebP (those of them
    whose content type is `allowed`), else 415."""
    formats = [name for name, (content_type, _) in IMAGE_FORMATS.items() if content_type in allowed]
    refused = UnsupportedMediaType(
        "File must be an image of type " + ", ".join(IMAGE_FORMATS[f][0] for f in formats)
        if formats
        else "Photo uploads are disabled (no allowed image types)"
    )
    if not formats:
        raise refused
    data.seek(0)
    try:
        with Image.open(data, formats=formats) as image:
            image_format = image.format
            image.verify()
    except Image.DecompressionBombError:
        raise Unprocessable("Image dimensions are too large", field="file") from None
    except Exception:  # Pillow raises many kinds of errors on malformed input
        raise refused from None
    finally:
        data.seek(0)
    if image_format not in formats:
        raise refused
    content_type, extension = IMAGE_FORMATS[image_format]
    return ImageKind(content_type, extension)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def clean_filename(raw: str) -> str:
    """The client's file name, kept only as a label: no directories, no control characters."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 16 else name[:255]
    return name
