"""`madoguchi worker` delivers queued replies through RQ (deployment mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from config.runtime import Runtime
from crm.models import Message, MessageStatus
from crm.services import post_reply
from tests.factories import make_center, make_ticket, make_user

ROOT = Path(__file__).resolve().parents[2]


def test_worker_process_delivers_a_reply(runtime: Runtime, session: Session) -> None:
    if runtime.redis is None:
        pytest.skip("the RQ worker needs MADOGUCHI_REDIS_URL (the PostgreSQL + Redis run covers it)")
    center = make_center(session)
    user = make_user(session, center)
    ticket = make_ticket(session, center, sender="U-worker")
    message = post_reply(session, ticket=ticket, author=user, body="ワーカーから送信")
    session.close()
    settings = runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(
        MADOGUCHI_ENV="test",
        MADOGUCHI_DATABASE_URL=settings.database_url,
        MADOGUCHI_REDIS_URL=settings.redis_url or "",
        MADOGUCHI_QUEUE_NAME=settings.queue_name,
        MADOGUCHI_DATA_DIR=str(settings.data_dir),
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import madoguchi_cli; madoguchi_cli.main()", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with Session(runtime.engine) as check:
        sent = check.get(Message, message.id)
        assert sent is not None and sent.status == MessageStatus.SENT
