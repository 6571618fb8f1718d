"""Live events reach a connected console over SSE, filtered by center."""

from __future__ import annotations

import json
import threading

import httpx
from sqlmodel import Session

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from tests.conftest import _reset_database
from tests.factories import PASSWORD, make_center, make_user, receive
from tests.live_server import serve


def _read_events(url: str, token: str, n: int, out: list[dict], ready: threading.Event) -> None:
    with (
        httpx.Client(timeout=20) as http,
        http.stream(
            "GET", f"{url}/api/events?limit={n}", headers={"Authorization": f"Bearer {token}"}
        ) as res,
    ):
        for line in res.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))


def test_supervisor_console_receives_only_own_center_events(migrated: Settings) -> None:
    app = create_app(migrated)
    with serve(app) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            tokyo, osaka = make_center(session, "TKY"), make_center(session, "OSK")
            make_user(session, tokyo, "boss")
            token = httpx.post(
                f"{url}/api/auth/token", data={"username": "boss", "password": PASSWORD}
            ).json()["access_token"]
            received: list[dict] = []
            ready = threading.Event()
            reader = threading.Thread(target=_read_events, args=(url, token, 1, received, ready), daemon=True)
            reader.start()
            assert ready.wait(10)
            receive(session, osaka, "大阪の相談", sender="U-osaka")
            receive(session, tokyo, "東京の相談", sender="U-tokyo")
            reader.join(timeout=20)
        assert [(e["event"], e["center_id"]) for e in received] == [("MessageReceived", tokyo.id)]


def test_events_need_a_login(migrated: Settings) -> None:
    with serve(create_app(migrated)) as url:
        assert httpx.get(f"{url}/api/events").status_code == 401
