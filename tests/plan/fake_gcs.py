"""A loopback HTTP server speaking the part of the GCS JSON API the storage client uses.

Uploads (multipart, media, resumable), object metadata, ranged media downloads and deletes,
kept in memory. `fail_with` makes every request answer that status (an outage).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import google_crc32c


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    generation: int


@dataclass
class FakeGcs:
    url: str = ""
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_with: int | None = None
    _uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    _generation: int = 1000

    def next_generation(self) -> int:
        self._generation += 1
        return self._generation


BUCKET_PATH = re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)$")
OBJECT_PATH = re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/o/(?P<name>.+)$")
DOWNLOAD_PATH = re.compile(r"^/download/storage/v1/b/(?P<bucket>[^/]+)/o/(?P<name>.+)$")
UPLOAD_PATH = re.compile(r"^/upload/storage/v1/b/(?P<bucket>[^/]+)/o$")


def _resource(bucket: str, name: str, obj: StoredObject) -> dict[str, Any]:
    return {
        "kind": "storage#object",
        "bucket": bucket,
        "name": name,
        "size": str(len(obj.data)),
        "contentType": obj.content_type,
        "generation": str(obj.generation),
        "metageneration": "1",
        "crc32c": base64.b64encode(google_crc32c.value(obj.data).to_bytes(4, "big")).decode(),
        "md5Hash": base64.b64encode(hashlib.md5(obj.data).digest()).decode(),
    }


def _split_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes, str]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    assert boundary, content_type
    parts = body.split(b"--" + boundary.group(1).encode())
    contents = []
    for part in parts[1:-1]:
        head, _, payload = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        contents.append((head.decode(), payload.removesuffix(b"\r\n")))
    metadata = json.loads(contents[0][1])
    media_type = re.search(r"content-type:\s*([^\r\n]+)", contents[1][0], re.I)
    return metadata, contents[1][1], media_type.group(1) if media_type else ""


def make_handler(state: FakeGcs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _body(self) -> bytes:
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

        def _not_found(self) -> None:
            self._json(404, {"error": {"code": 404, "message": "No such object"}})

        def _guard(self) -> bool:
            state.requests.append((self.command, self.path))
            if state.fail_with is not None:
                self._body()
                self._json(state.fail_with, {"error": {"code": state.fail_with, "message": "outage"}})
                return False
            return True

        def _store(
            self, bucket: str, name: str, data: bytes, content_type: str, query: dict[str, list[str]]
        ) -> None:
            if query.get("ifGenerationMatch") == ["0"] and (bucket, name) in state.objects:
                self._json(412, {"error": {"code": 412, "message": "Precondition Failed"}})
                return
            obj = StoredObject(data, content_type, state.next_generation())
            state.objects[(bucket, name)] = obj
            self._json(200, _resource(bucket, name, obj))

        def do_POST(self) -> None:
            if not self._guard():
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            match = UPLOAD_PATH.match(url.path)
            if not match:
                self._not_found()
                return
            bucket, body = match["bucket"], self._body()
            kind = query.get("uploadType", [""])[0]
            if kind == "multipart":
                metadata, data, media_type = _split_multipart(body, self.headers["content-type"])
                self._store(bucket, metadata["name"], data, metadata.get("contentType") or media_type, query)
            elif kind == "media":
                self._store(bucket, query["name"][0], body, self.headers.get("content-type", ""), query)
            elif kind == "resumable":
                metadata = json.loads(body or b"{}")
                upload_id = uuid.uuid4().hex
                state._uploads[upload_id] = {
                    "bucket": bucket,
                    "name": metadata["name"],
                    "content_type": metadata.get("contentType")
                    or self.headers.get("x-upload-content-type", ""),
                    "query": query,
                    "data": b"",
                }
                location = (
                    f"{state.url}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={upload_id}"
                )
                self._send(200, b"", {"Location": location})
            else:
                self._json(400, {"error": {"code": 400, "message": f"uploadType {kind!r}"}})

        def do_PUT(self) -> None:
            if not self._guard():
                return
            query = parse_qs(urlsplit(self.path).query)
            upload = state._uploads.get(query.get("upload_id", [""])[0])
            if upload is None:
                self._not_found()
                return
            upload["data"] += self._body()
            total = (self.headers.get("content-range") or "").rpartition("/")[2]
            if total.isdigit() and len(upload["data"]) >= int(total):
                self._store(
                    upload["bucket"], upload["name"], upload["data"], upload["content_type"], upload["query"]
                )
            else:
                self._send(308, b"", {"Range": f"bytes=0-{len(upload['data']) - 1}"})

        def do_GET(self) -> None:
            if not self._guard():
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            bucket_match = BUCKET_PATH.match(url.path)
            if bucket_match:  # the client looks its bucket up in the background
                self._json(200, {"kind": "storage#bucket", "name": bucket_match["bucket"], "location": "EU"})
                return
            match = DOWNLOAD_PATH.match(url.path) or OBJECT_PATH.match(url.path)
            if not match:
                self._not_found()
                return
            bucket, name = match["bucket"], unquote(match["name"])
            obj = state.objects.get((bucket, name))
            if obj is None:
                self._not_found()
                return
            if query.get("alt") != ["media"]:
                self._json(200, _resource(bucket, name, obj))
                return
            data, status, headers = obj.data, 200, {"Content-Type": obj.content_type}
            wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("range") or "")
            if wanted:
                start = int(wanted[1])
                end = int(wanted[2]) if wanted[2] else len(obj.data) - 1
                if start >= len(obj.data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(obj.data)}"})
                    return
                end = min(end, len(obj.data) - 1)
                data, status = obj.data[start : end + 1], 206
                headers["Content-Range"] = f"bytes {start}-{end}/{len(obj.data)}"
            headers["x-goog-generation"] = str(obj.generation)
            self._send(status, data, headers)

        def do_DELETE(self) -> None:
            if not self._guard():
                return
            match = OBJECT_PATH.match(urlsplit(self.path).path)
            key = (match["bucket"], unquote(match["name"])) if match else None
            if key is None or key not in state.objects:
                self._not_found()
                return
            del state.objects[key]
            self._send(204)

    return Handler


@contextmanager
def running_fake_gcs() -> Iterator[FakeGcs]:
    state = FakeGcs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
