"""Download LINE message content (image, video, audio, file) into our own attachment store.

Files are stored content-addressed under ``<data_dir>/attachments/<sha256[:2]>/<sha256>``; the display
name lives in the database. We stream through the SDK's blob ApiClient (same host, token and
connection pool as ``MessagingApiBlob``) because ``MessagingApiBlob.get_message_content`` buffers
the whole body in memory: streaming lets us stop at ``line_max_attachment_bytes`` without holding a
200 MB video.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import urllib3

from channels.attachment_store import storage_path_for
from channels.base import ChannelTimeout, ContentTooLarge, StoredContent
from channels.line.errors import translate_api_error, translate_network_error

CHUNK = 256 * 1024


def download_content(adapter: Any, message_id: str, data_dir: Path, max_bytes: int) -> StoredContent:
    """Stream ``GET /v2/bot/message/{id}/content`` into the store; raise ContentTooLarge over the limit.

    LINE answers 202 while a video/audio is still being prepared: that is a ChannelTimeout (retry).
    """
    client = adapter.blob_client
    url = f"{client.configuration.host}/v2/bot/message/{quote(message_id, safe='')}/content"
    headers = dict(client.default_headers)
    headers["Authorization"] = f"Bearer {client.configuration.access_token}"
    try:
        resp = client.rest_client.pool_manager.request(
            "GET", url, headers=headers, preload_content=False, timeout=urllib3.Timeout(connect=5, read=60)
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_network_error(exc, "content download") from exc
    try:
        if resp.status == 202:
            raise ChannelTimeout("LINE is still preparing this content (202); trying again later")
        if resp.status != 200:
            body = resp.read(4096)
            raise translate_api_error(SimpleNamespace(status=resp.status, body=body), "content download")
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ContentTooLarge(int(declared), max_bytes)
        content_type = (resp.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip()
        return _store_stream(resp, data_dir, max_bytes, content_type)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_network_error(exc, "content download") from exc
    finally:
        resp.release_conn()


def _store_stream(
    resp: urllib3.BaseHTTPResponse, data_dir: Path, max_bytes: int, content_type: str
) -> StoredContent:
    tmp_dir = data_dir / "attachments" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="line-")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in resp.stream(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ContentTooLarge(size, max_bytes)
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        sha = digest.hexdigest()
        relative = storage_path_for(sha)
        final = data_dir / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.unlink(tmp_name)  # the same bytes are stored already
        else:
            os.replace(tmp_name, final)
        return StoredContent(sha256=sha, size=size, storage_path=relative, content_type=content_type)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
