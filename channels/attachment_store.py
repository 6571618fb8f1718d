"""The attachment store on disk, content-addressed: ``<data_dir>/attachments/<sha256[:2]>/<sha256>``.

Channels put files here (LINE downloads stream into it; mail attachments arrive inside the message and
are written at once); crm records the rows. The display name lives in the database, never in the path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from channels.base import Attachment, InboundItem, InboundMessage, StoredContent


def storage_path_for(sha256: str) -> str:
    return f"attachments/{sha256[:2]}/{sha256}"


def store_bytes(data_dir: Path, data: bytes, content_type: str) -> StoredContent:
    """Write ``data`` durably into the store (once per distinct content) and say where."""
    sha = hashlib.sha256(data).hexdigest()
    relative = storage_path_for(sha)
    final = data_dir / relative
    if not final.exists():
        tmp_dir = data_dir / "attachments" / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="inline-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
    return StoredContent(sha256=sha, size=len(data), storage_path=relative, content_type=content_type)


def store_inline_attachments(item: InboundItem, data_dir: Path) -> InboundItem:
    """An InboundMessage whose attachments carried their bytes (mail) with those bytes stored and
    referenced instead; anything else unchanged."""
    if not isinstance(item, InboundMessage) or not any(a.content is not None for a in item.attachments):
        return item
    stored: list[Attachment] = []
    for att in item.attachments:
        if att.content is None:
            stored.append(att)
            continue
        where = store_bytes(data_dir, att.content, att.content_type)
        stored.append(
            replace(att, content=None, size=where.size, sha256=where.sha256, storage_path=where.storage_path)
        )
    return replace(item, attachments=tuple(stored))
