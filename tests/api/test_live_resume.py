"""A console that reconnects resumes where it left off (Last-Event-ID) or is told to resync.

Runs on both backends: in memory (embedded) and through Redis pub/sub + the replay stream.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from sqlmodel import Session

from app import create_app
from config.live import RedisBroadcaster
from config.runtime import Runtime, get_runtime
from config.settings import Settings
from tests.conftest import _reset_database
from tests.factories import PASSWORD, make_center, make_user, receive
from tests.live_server import serve


@dataclass
class Console:
    """One open SSE connection, read on a thread: the connected id and the events as they come."""

    url: str
    token: str
    last_event_id: str | None = None
    connected_id: str | None = None
    events: list[dict] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    response: httpx.Response | None = None

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        with (
            httpx.Client(timeout=30) as http,
            http.stream("GET", f"{self.url}/api/events", headers=headers) as res,
        ):
            self.response = res
            try:
                self._read(res)
            except (httpx.HTTPError, RuntimeError, ValueError, OSError):  # closed by the test
                return

    def _read(self, res: httpx.Response) -> None:
        current: dict = {}
        for line in res.iter_lines():
            if line.startswith(": connected"):
                self.ready.set()
            elif line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = line[6:]
            elif line == "":
                if "event" in current:
                    self.events.append(current)
                elif "id" in current and self.connected_id is None:
                    self.connected_id = current["id"]
                current = {}
            if self.stop.is_set():
                return

    def wait_for(self, predicate: Callable[[list[dict]], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(list(self.events)) and time.monotonic() < deadline:
            time.sleep(0.02)
        return predicate(list(self.events))

    def wait(self, n: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.events) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.events


@contextmanager
def console(url: str, token: str, last_event_id: str | None = None) -> Iterator[Console]:
    c = Console(url, token, last_event_id)
    thread = threading.Thread(target=c.run, daemon=True)
    thread.start()
    assert c.ready.wait(10), "the console did not connect"
    try:
        yield c
    finally:
        c.stop.set()
        if c.response is not None:  # hang up (the server must not wait for us when it shuts down)
            sock = c.response.extensions["network_stream"].get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=5)


@pytest.fixture
def live_world(migrated: Settings) -> Iterator[tuple[str, str, Runtime, Session]]:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "boss")
            token = httpx.post(
                f"{url}/api/auth/token", data={"username": "boss", "password": PASSWORD}
            ).json()["access_token"]
            session.info["center"] = center
            yield url, token, runtime, session


def test_a_console_back_after_a_short_gap_gets_every_missed_consultation_once(live_world) -> None:
    url, token, _runtime, session = live_world
    center = session.info["center"]
    with console(url, token) as first:
        time.sleep(0.3)  # wait for the connected id's block
        receive(session, center, "一件目", sender="U-1")
        assert first.wait_for(lambda evs: any(e["event"] == "MessageReceived" for e in evs))
        time.sleep(0.5)  # the follow-up events (routing) too
        last_seen = first.events[-1]["id"]
        seen_before = set(_consultations(first))
    for i in range(3):  # while the console is away (e.g. a laptop changing networks)
        receive(session, center, f"不在中の相談{i}", sender=f"U-away-{i}")
    with console(url, token, last_event_id=last_seen) as back:
        receive(session, center, "再接続後の相談", sender="U-after")
        deadline = time.monotonic() + 10
        while len(_consultations(back)) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        tickets = _consultations(back)
        assert len(tickets) == 4 and len(set(tickets)) == 4  # none lost, none twice
        assert not seen_before & set(tickets)  # nothing the console already had
        seqs = [int(e["id"].rsplit("-", 1)[1]) for e in back.events]
        assert seqs == sorted(set(seqs)) and seqs[0] > int(last_seen.rsplit("-", 1)[1])


def _consultations(c: Console) -> list[int]:
    return [json.loads(e["data"])["ticket_id"] for e in c.events if e["event"] == "MessageReceived"]


def test_a_console_with_an_unknown_id_is_told_to_resync_at_once(live_world) -> None:
    url, token, _runtime, _session = live_world
    started = time.monotonic()
    with console(url, token, last_event_id="0badc0de-41") as stale:
        got = stale.wait(1)
        assert got and got[0]["event"] == "resync"
        assert time.monotonic() - started < 5


def test_an_over_long_last_event_id_is_refused_with_a_clear_error(live_world) -> None:
    url, token, _runtime, _session = live_world
    res = httpx.get(
        f"{url}/api/events", params={"last_event_id": "x" * 500}, headers={"Authorization": f"Bearer {token}"}
    )
    assert res.status_code == 422 and "last_event_id" in res.text


def _kill_live_subscriptions(runtime: Runtime) -> int:
    """Drop this test's pub/sub connections (our Redis db only), as a Redis restart would."""
    killed = 0
    db = runtime.redis.connection_pool.connection_kwargs.get("db", 0)
    for client in runtime.redis.client_list():
        if int(client.get("db", -1)) == db and int(client.get("sub", 0)) > 0:
            runtime.redis.client_kill_filter(_id=client["id"])
            killed += 1
    return killed


def test_after_a_redis_restart_open_and_returning_consoles_resync_within_5_s(live_world) -> None:
    url, token, runtime, session = live_world
    if not isinstance(runtime.live, RedisBroadcaster):
        pytest.skip("needs Redis (MADOGUCHI_REDIS_URL)")
    center = session.info["center"]
    with console(url, token) as open_console:
        time.sleep(0.3)
        receive(session, center, "再起動前", sender="U-before")
        assert open_console.wait_for(lambda evs: any(e["event"] == "MessageReceived" for e in evs))
        before = open_console.events[-1]["id"]
        mark = len(open_console.events)
        runtime.redis.flushdb()  # a restarted Redis without persistence: counter and buffer are gone
        started = time.monotonic()
        assert _kill_live_subscriptions(runtime) >= 1
        assert open_console.wait_for(lambda evs: any(e["event"] == "resync" for e in evs[mark:]), timeout=5)
        assert time.monotonic() - started < 5
        mark = len(open_console.events)
        receive(session, center, "再起動後", sender="U-after")
        assert open_console.wait_for(lambda evs: any(e["event"] == "MessageReceived" for e in evs[mark:]))
    with console(url, token, last_event_id=before) as returning:
        assert returning.wait(1)[0]["event"] == "resync"
