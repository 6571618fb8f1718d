"""Faults: pending work resumes by itself within 10 s after Redis or PostgreSQL comes back.

Each test runs its own throw-away server (a ``redis-server`` on a free port, a PostgreSQL cluster
in a temp dir), never the shared ones, and a real ``madoguchi worker`` process against it. Webhooks
go through the real app (TestClient); the LINE API is the local fake server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import create_app
from config.jobs import InProcessJobs, PeriodicJob, RQJobs, heartbeat_key
from config.runtime import Runtime
from config.settings import Settings
from crm.models import InboundEvent, InboundEventStatus
from tests.conftest import wait_for
from tests.factories import make_center
from tests.fakes.line_server import FakeLineServer, line_settings, signed_headers, text_event, webhook_body

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "/channels/line/webhook"
RESUME_SECONDS = 10.0

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private ``redis-server`` (no persistence: a restart loses every queued job, like a crash)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed (apt-get install redis-server)")
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        probe = Redis(port=self.port)
        assert wait_for(lambda: _answers(probe), 10), "private redis-server did not start"
        probe.close()
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def _answers(redis: object) -> bool:
    try:
        return bool(redis.ping())  # type: ignore[attr-defined]
    except Exception:
        return False


@contextmanager
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer(free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def app_env(settings: Settings, redis_url: str) -> dict[str, str]:
    """The environment of a ``madoguchi`` process on ``settings`` (LINE pointed at the fake server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "PROMETHEUS_"))}
    env.update(
        MADOGUCHI_ENV="test",
        MADOGUCHI_DATABASE_URL=settings.database_url,
        MADOGUCHI_REDIS_URL=redis_url,
        MADOGUCHI_QUEUE_NAME=settings.queue_name,
        MADOGUCHI_DATA_DIR=str(settings.data_dir),
        MADOGUCHI_LINE_CHANNEL_SECRET=settings.line_channel_secret,
        MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN=settings.line_channel_access_token,
        MADOGUCHI_LINE_API_BASE_URL=settings.line_api_base_url,
        MADOGUCHI_LINE_BLOB_BASE_URL=settings.line_blob_base_url,
        MADOGUCHI_LINE_CENTER_CODE=settings.line_center_code,
        MADOGUCHI_LOG_FORMAT="text",
    )
    return env


@contextmanager
def madoguchi(settings: Settings, redis_url: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``madoguchi <args>`` as a process on ``settings``; SIGTERM (then SIGKILL) afterwards."""
    log_path = settings.data_dir / f"{args[0]}-{time.time_ns()}.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import madoguchi_cli; madoguchi_cli.main()", *args],
            cwd=ROOT,
            env=app_env(settings, redis_url),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
    print(log_path.read_text()[-3000:])  # shown by pytest when the test fails


def worker_process(settings: Settings, redis_url: str) -> AbstractContextManager[subprocess.Popen[str]]:
    return madoguchi(settings, redis_url, "worker")


def status_of(runtime: Runtime, user: str) -> list[str]:
    with Session(runtime.engine) as s:
        return [str(e.status) for e in s.exec(select(InboundEvent).where(InboundEvent.sender == user))]


def processed(runtime: Runtime, user: str) -> bool:
    statuses = status_of(runtime, user)
    return bool(statuses) and InboundEventStatus.PENDING.value not in statuses


def post_text(client: TestClient, user: str, text: str) -> None:
    body = webhook_body(text_event(user, text))
    res = client.post(WEBHOOK, content=body, headers=signed_headers(body))
    assert res.status_code == 200, res.text


def test_webhooks_stored_during_a_redis_outage_are_processed_within_10_s_of_its_return(
    runtime: Runtime, line: FakeLineServer
) -> None:
    with Session(runtime.engine) as s:
        make_center(s, code="LINE01")
    with private_redis() as redis_server:
        settings = line_settings(
            runtime.settings, line, redis_url=redis_server.url, line_center_code="LINE01"
        )
        with (
            worker_process(settings, redis_server.url) as worker,
            TestClient(create_app(settings, run_jobs=False)) as client,
        ):
            rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
            jobs = rt.jobs
            assert isinstance(jobs, RQJobs)
            assert wait_for(lambda: jobs.workers_alive() > 0, 30), "the worker never sent a heartbeat"
            post_text(client, "U-before-outage", "停電前のご相談です")
            assert wait_for(lambda: processed(rt, "U-before-outage"), RESUME_SECONDS)

            redis_server.stop()
            post_text(client, "U-during-outage", "Redis が止まっている間のご相談です")  # stored, not enqueued
            assert status_of(rt, "U-during-outage") == ["pending"]
            time.sleep(3)  # the worker and its ticker meet the outage
            assert worker.poll() is None, "the worker exited during the Redis outage"

            redis_server.start()
            back = time.monotonic()
            assert wait_for(lambda: processed(rt, "U-during-outage"), RESUME_SECONDS + 5)
            took = time.monotonic() - back
            print(f"stored during the outage, processed {took:.1f} s after Redis returned")
            assert took <= RESUME_SECONDS, f"processed {took:.1f} s after Redis returned"
            assert wait_for(lambda: jobs.workers_alive() > 0, 5), "no heartbeat after Redis returned"
            post_text(client, "U-after-outage", "復旧後のご相談です")
            assert wait_for(lambda: processed(rt, "U-after-outage"), RESUME_SECONDS)
            assert worker.poll() is None


def test_the_ticker_survives_redis_errors_and_resumes_the_periodic_jobs() -> None:
    """Without a worker: the ticker thread itself keeps going and re-enqueues once Redis is back."""
    from redis import Redis

    with private_redis() as redis_server:
        redis = Redis.from_url(redis_server.url)
        jobs = RQJobs(redis, "ticker-test")
        jobs.start([PeriodicJob(_periodic_noop, every_seconds=3600)])
        try:
            assert wait_for(lambda: len(jobs.queue) == 1, 5)  # the first tick of the hour slot
            redis_server.stop()
            time.sleep(3)
            assert jobs._ticker is not None and jobs._ticker.is_alive()
            assert jobs.tick_failures >= 1
            redis_server.start()  # empty: the queued job was lost with the server
            assert wait_for(lambda: len(jobs.queue) >= 1, 5), "periodic jobs were not resumed"
            assert wait_for(lambda: jobs.workers_alive() == 1, 5)  # heartbeats again
        finally:
            jobs.stop()
            redis.close()


def _periodic_noop() -> None:
    return None


def test_two_tickers_enqueue_each_periodic_slot_once() -> None:
    from redis import Redis

    with private_redis() as redis_server:
        redis = Redis.from_url(redis_server.url)
        a, b = RQJobs(redis, "ticker-pair"), RQJobs(redis, "ticker-pair")
        b.worker_name = "other-host:1"
        for jobs in (a, b):
            jobs.start([PeriodicJob(_periodic_noop, every_seconds=3600)])
        try:
            assert wait_for(lambda: len(a.queue) == 1, 5)
            time.sleep(2.5)  # several ticks of both
            assert len(a.queue) == 1
            a.queue.empty()  # the job ran (result_ttl=0: nothing is left of it)
            time.sleep(2.5)
            assert len(a.queue) == 0, "a finished periodic job was enqueued again in the same slot"
            assert a.workers_alive() == 2
        finally:
            a.stop()
            b.stop()
            redis.close()


class Flaky:
    """A periodic job that fails like a database that is down, then recovers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            from sqlalchemy.exc import OperationalError

            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_the_in_process_runner_survives_database_errors_in_periodic_jobs() -> None:
    jobs = InProcessJobs()
    flaky = Flaky(failures=3)
    flaky.__qualname__ = "flaky"  # type: ignore[attr-defined]
    flaky.__module__ = "tests"
    jobs.start([PeriodicJob(flaky, every_seconds=0.05)])
    try:
        assert wait_for(lambda: flaky.calls >= 6, 5), f"the job ran {flaky.calls} times"
        assert jobs.workers_alive() == 1
        assert sum(jobs.failures.values()) == 3
    finally:
        jobs.stop()


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "madoguchi serve exited during startup"
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"madoguchi serve did not answer within {timeout:.0f} s")


def event_rows(runtime: Runtime, ids: set[str]) -> dict[str, list[str]]:
    """provider_event_id -> the status of each row stored for it."""
    rows: dict[str, list[str]] = {}
    with Session(runtime.engine) as s:
        for e in s.exec(select(InboundEvent)):
            if e.provider_event_id in ids:
                rows.setdefault(e.provider_event_id, []).append(str(e.status))
    return rows


def test_sigkill_of_api_and_worker_mid_traffic_loses_and_duplicates_nothing(
    runtime: Runtime, line: FakeLineServer
) -> None:
    import threading
    from contextlib import ExitStack

    import httpx
    from redis import Redis

    with Session(runtime.engine) as s:
        make_center(s, code="LINE01")
    total = 60
    events = [text_event(f"U-kill-{i % 5}", f"SIGKILL 試験の相談 {i}") for i in range(total)]
    acknowledged: set[str] = set()
    refused: list[dict[str, object]] = []
    answers: list[str] = []  # what the refused requests got
    t0 = time.monotonic()
    with private_redis() as redis_server, ExitStack() as stack:
        settings = line_settings(
            runtime.settings, line, redis_url=redis_server.url, line_center_code="LINE01"
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        heartbeats = RQJobs(Redis.from_url(redis_server.url), settings.queue_name)

        def start() -> tuple[subprocess.Popen[str], subprocess.Popen[str]]:
            api = stack.enter_context(madoguchi(settings, redis_server.url, "serve", "--port", str(port)))
            worker = stack.enter_context(worker_process(settings, redis_server.url))
            wait_healthy(url, api)
            assert wait_for(lambda: heartbeats.workers_alive(3) > 0, 60), "the worker did not start"
            return api, worker

        def send(client: httpx.Client, event: dict[str, object]) -> None:
            body = webhook_body(event)
            try:
                res = client.post(url + WEBHOOK, content=body, headers=signed_headers(body))
                ok = res.status_code == 200
                if not ok:
                    answers.append(f"{res.status_code} {res.text[:200]}")
            except httpx.HTTPError as exc:
                ok = False
                answers.append(f"{type(exc).__name__} at {time.monotonic() - t0:.1f} s")
            if ok:
                acknowledged.add(str(event["webhookEventId"]))
            else:
                refused.append(event)

        def traffic() -> None:
            with httpx.Client(timeout=5) as client:
                for event in events:
                    send(client, event)
                    time.sleep(0.02)

        def all_processed(ids: set[str]) -> bool:
            rows = event_rows(runtime, ids)
            return len(rows) == len(ids) and all("pending" not in r for r in rows.values())

        api, worker = start()
        sender = threading.Thread(target=traffic)
        sender.start()
        assert wait_for(lambda: len(acknowledged) >= total // 3, 30)
        api.send_signal(signal.SIGKILL)
        worker.send_signal(signal.SIGKILL)
        api.wait(10)
        worker.wait(10)
        before_kill = set(acknowledged)
        heartbeats.redis.delete(heartbeat_key(settings.queue_name))  # count only the new worker's
        time.sleep(1)
        api, worker = start()
        up = time.monotonic()
        # What was acknowledged before the kill (some of it in the killed worker's hands) resumes by itself.
        assert wait_for(lambda: all_processed(before_kill), RESUME_SECONDS + 10)
        resumed = time.monotonic() - up
        sender.join(60)
        answers.append(f"restarted at {up - t0:.1f} s; {len(refused)} to redeliver")
        with httpx.Client(timeout=10) as client:  # LINE redelivers what got no 200, a few times
            for _ in range(3):
                for event in list(refused):
                    refused.remove(event)
                    send(client, {**event, "deliveryContext": {"isRedelivery": True}})
        assert len(before_kill) < total and not refused and len(acknowledged) == total, answers[-8:]
        assert wait_for(lambda: all_processed(acknowledged), 60)
        rows = event_rows(runtime, acknowledged)
        assert {k: len(v) for k, v in rows.items() if len(v) != 1} == {}, "an event was stored twice"
        print(
            f"{total} acknowledged, SIGKILL of API and worker after {len(before_kill)}: those were all processed"
            f" {resumed:.1f} s after the restart; none lost, none stored twice"
        )
        print("refused on the way (then redelivered):", answers)
        assert resumed <= RESUME_SECONDS, f"pending work resumed only {resumed:.1f} s after the restart"


# -- PostgreSQL restart: a throw-away cluster of our own (never the shared one on 5432) -------------


class PostgresCluster:
    """``initdb`` in a temp dir, run as the ``postgres`` user on a free port; stop() is a fast shutdown."""

    def __init__(self) -> None:
        import glob
        import pwd
        import tempfile

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins or os.geteuid() != 0:
            if os.environ.get("CI"):
                pytest.fail("the PostgreSQL restart test needs Debian's postgresql binaries and root")
            pytest.skip("needs /usr/lib/postgresql/*/bin and root (to run the cluster as postgres)")
        self.bin = Path(bins[-1]).parent
        # Outside pytest's tmp_path (mode 0700, owned by root): the postgres user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="madoguchi-pg-", dir="/tmp"))
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self.dir = self.root / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen[bytes] | None = None
        self.as_postgres: dict[str, Any] = {
            "user": user.pw_uid,
            "group": user.pw_gid,
            "extra_groups": [],
            "cwd": "/",
            "env": {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
        }
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            **self.as_postgres,
        )

    def start(self) -> PostgresCluster:
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.dir), "-p", str(self.port), "-k", str(self.dir)]
            + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=60"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self.as_postgres,
        )
        import psycopg

        def up() -> bool:
            try:
                psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres").close()
                return True
            except psycopg.Error:
                return False

        assert wait_for(up, 30), "the throw-away PostgreSQL did not start"
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: open connections are cut
            self.proc.wait(30)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.parametrize("runner", ["rq", "in_process"])
def test_jobs_resume_within_10_s_after_a_postgresql_restart(
    runner: str, tmp_path: Path, line: FakeLineServer, migrated: Settings
) -> None:
    from crm.db import make_engine
    from crm.schema import load_models

    cluster = PostgresCluster().start()
    try:
        engine = make_engine(cluster.url)
        load_models().metadata.create_all(engine)  # a fresh cluster: the models' tables as they are now
        with Session(engine) as s:
            make_center(s, code="LINE01")
        engine.dispose()
        with ExitStack() as stack:
            redis_url = None
            if runner == "rq":
                redis_url = stack.enter_context(private_redis()).url
            settings = line_settings(
                migrated,
                line,
                database_url=cluster.url,
                redis_url=redis_url,
                line_center_code="LINE01",
                data_dir=tmp_path,
            )
            if redis_url:
                worker = stack.enter_context(worker_process(settings, redis_url))
            app = create_app(settings, run_jobs=redis_url is None)
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
            assert wait_for(lambda: rt.jobs.workers_alive() > 0, 60)
            post_text(client, "U-pg-before", "再起動前のご相談です")
            assert wait_for(lambda: processed(rt, "U-pg-before"), RESUME_SECONDS)

            cluster.stop()
            time.sleep(3)  # periodic jobs and the pool meet the outage
            body = webhook_body(text_event("U-pg-during", "停止中のご相談"))
            during = client.post(WEBHOOK, content=body, headers=signed_headers(body))
            assert during.status_code == 503, during.text  # not acknowledged: LINE delivers it again later
            assert during.headers["retry-after"] and "database" in during.json()["detail"]
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
            if redis_url:
                assert worker.poll() is None, "the worker exited while PostgreSQL was down"

            cluster.start()
            back = time.monotonic()
            redelivered = client.post(WEBHOOK, content=body, headers=signed_headers(body))
            assert redelivered.status_code == 200, redelivered.text
            assert wait_for(lambda: processed(rt, "U-pg-during"), RESUME_SECONDS + 5)
            took = time.monotonic() - back
            print(f"{runner}: processed {took:.1f} s after PostgreSQL returned")
            assert took <= RESUME_SECONDS
            assert status_of(rt, "U-pg-during") == ["processed"]
    finally:
        cluster.remove()


# -- disk full on attachment write ------------------------------------------------------------------


@contextmanager
def tiny_disk(size_kb: int) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` (needs root): a data dir that fills up for real (ENOSPC)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="madoguchi-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(root)], capture_output=True
    )
    if mounted.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {mounted.stderr.decode()[:200]}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def fill(disk: Path) -> Path:
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # ENOSPC: the disk is full
    finally:
        os.close(fd)
    return ballast


def test_a_full_disk_on_attachment_write_keeps_the_message_and_retries_later(
    migrated: Settings, line: FakeLineServer
) -> None:
    from crm.models import Attachment, Message
    from tests.conftest import clean_runtime
    from tests.fakes.line_server import fixture_event
    from tests.line_accounts import accept_events

    with tiny_disk(512) as disk:
        (disk / "attachments" / "tmp").mkdir(parents=True)
        settings = line_settings(migrated, line, line_center_code="LINE01", data_dir=disk)
        with clean_runtime(settings) as rt:
            with Session(rt.engine) as s:
                make_center(s, code="LINE01")
            event = fixture_event("image", timestamp=int(time.time() * 1000))
            photo = os.urandom(100_000)
            line.add_content(event["message"]["id"], photo, "image/jpeg")
            ballast = fill(disk)

            accept_events(rt, [event])
            rt.jobs.drain()
            with Session(rt.engine) as s:
                (message,) = s.exec(select(Message)).all()  # the message is kept
                (att,) = s.exec(select(Attachment)).all()
            assert message.kind == "image"
            assert att.status == "pending", "a full disk must not end the attachment: it is retried"
            assert list((disk / "attachments" / "tmp").iterdir()) == []  # no partial file left behind

            ballast.unlink()  # an operator frees space
            rt.jobs.run_delayed_now()  # the retry's backoff, without sleeping
            rt.jobs.drain()
            with Session(rt.engine) as s:
                stored = s.get(Attachment, att.id)
            assert stored is not None and stored.status == "stored"
            assert (disk / str(stored.storage_path)).read_bytes() == photo
