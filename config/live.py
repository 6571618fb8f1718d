"""Live events for dashboards and consoles: sequence ids, a bounded replay buffer, one relay per process.

Every published event gets an id ``<epoch>-<seq>``: ``seq`` counts up by one per event across all
processes; ``epoch`` names the buffer's lifetime (a new process when embedded, a Redis that lost its
data when deployed). A reconnecting console sends its last id and gets what it missed from the
replay buffer, or — when that is impossible (another epoch, events already trimmed, older than
:data:`REPLAY_MAX_SECONDS`) — a ``resync`` event telling it to refetch from the API.

* :class:`LocalBroadcaster` (embedded): counter and buffer in memory, fan-out in the publishing thread.
* :class:`RedisBroadcaster` (deployed): one Lua call per event INCRs the counter, appends to a capped
  stream (the shared replay buffer) and PUBLISHes; ONE subscriber thread per process relays to local
  listeners with a blocking read (no polling delay). After its connection drops it catches up from the
  stream, or tells its listeners to resync when the gap cannot be filled.

Listeners get :class:`LiveEvent` (``listen``); ``subscribe`` keeps the older dict-payload shape.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "madoguchi:events"
SEQ_KEY = "madoguchi:events:seq"
LOG_KEY = "madoguchi:events:log"
EPOCH_KEY = "madoguchi:events:epoch"
REPLAY_EVENTS = 1000  # the replay buffer keeps at least this many recent events
REPLAY_MAX_SECONDS = 300.0  # a console away longer than this resyncs instead of replaying
RESYNC = "resync"

Subscriber = Callable[[dict[str, Any]], None]


class LiveEvent:
    """One event as consoles see it; :meth:`frame` is the SSE text, encoded once for every console."""

    __slots__ = ("_frame", "at", "data", "epoch", "payload", "seq")

    def __init__(
        self, epoch: str, seq: int, payload: dict[str, Any], at: float | None = None, data: str = ""
    ) -> None:
        self.epoch, self.seq, self.payload = epoch, seq, payload
        self.at = time.time() if at is None else at
        self.data = data
        self._frame: bytes | None = None

    @property
    def id(self) -> str:
        return f"{self.epoch}-{self.seq}"

    @property
    def name(self) -> str:
        return str(self.payload.get("event", "message"))

    @property
    def is_resync(self) -> bool:
        return self.name == RESYNC

    def frame(self) -> bytes:
        """``id:``, ``event:`` and ``data:`` lines (computed on first use, then shared)."""
        if self._frame is None:
            data = self.data or json.dumps(self.payload, ensure_ascii=False, default=str)
            self._frame = f"id: {self.id}\nevent: {self.name}\ndata: {data}\n\n".encode()
        return self._frame

    def __repr__(self) -> str:
        return f"LiveEvent({self.id}, {self.name})"


Listener = Callable[[LiveEvent], None]


def resync_event(epoch: str, seq: int, reason: str) -> LiveEvent:
    """The event that tells a console to refetch its lists and open ticket from the API."""
    payload = {"event": RESYNC, "reason": reason, "refetch": True}
    return LiveEvent(epoch, seq, payload)


def parse_event_id(value: str | None) -> tuple[str, int] | None:
    """``<epoch>-<seq>`` → (epoch, seq); None for anything else."""
    if not value or len(value) > 80:
        return None
    epoch, _, seq = value.strip().rpartition("-")
    if not epoch or not seq.isdigit():
        return None
    return epoch, int(seq)


class LocalBroadcaster:
    """In-process counter, replay buffer and fan-out (embedded default)."""

    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self._lock = threading.Lock()
        self._order = threading.RLock()
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self._recent: deque[LiveEvent] = deque(maxlen=REPLAY_EVENTS)
        self.max_age_seconds = REPLAY_MAX_SECONDS

    def listen(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn`` with every event from now on (in the delivering thread); returns the unsubscribe."""
        with self._lock:
            self._listeners.add(fn)
        return lambda: self._unlisten(fn)

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn`` with the payload dict of every domain event (resyncs are not passed on)."""
        return self.listen(lambda ev: None if ev.is_resync else fn(ev.payload))

    def _unlisten(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.discard(fn)

    def publish(self, payload: dict[str, Any]) -> None:
        with self._order:  # ids are handed out and delivered in the same order
            self.seq += 1
            self._deliver(LiveEvent(self.epoch, self.seq, payload))

    def position(self) -> str:
        """The id of the newest event (what a console that just connected has seen)."""
        return f"{self.epoch}-{self.seq}"

    def replay(self, last_id: str | None) -> list[LiveEvent] | None:
        """The events after ``last_id``, oldest first; None when the console must resync instead."""
        parsed = parse_event_id(last_id)
        if parsed is None or parsed[0] != self.epoch or parsed[1] > self.seq:
            return None
        missed = [ev for ev in list(self._recent) if ev.seq > parsed[1]]
        return self._complete(parsed[1], missed)

    def _complete(
        self, after: int, missed: list[LiveEvent], upto: int | None = None
    ) -> list[LiveEvent] | None:
        upto = self.seq if upto is None else upto
        missed = [ev for ev in missed if ev.seq <= upto]
        if after >= upto:
            return []
        if not missed or missed[0].seq != after + 1 or len(missed) < upto - after:
            return None  # trimmed: the buffer no longer holds the whole gap
        if time.time() - missed[0].at > self.max_age_seconds:
            return None
        return missed

    def _remember(self, ev: LiveEvent) -> None:
        if not ev.is_resync:
            self._recent.append(ev)

    def _deliver(self, ev: LiveEvent) -> None:
        self._remember(ev)
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(ev)
            except Exception:
                log.exception("live listener failed")

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


_PUBLISH = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[3], epoch)
  redis.call('DEL', KEYS[1], KEYS[2])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'd', ARGV[1], 't', ARGV[4])
redis.call('PUBLISH', KEYS[4], epoch .. ' ' .. seq .. ' ' .. ARGV[4] .. ' ' .. ARGV[1])
return seq
"""

_NEW_EPOCH = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end"


class RedisBroadcaster(LocalBroadcaster):
    """Counter and replay buffer in Redis; one subscriber thread relays every process's events here."""

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis
        self.epoch = ""  # known once the relay has connected
        self._script = redis.register_script(_PUBLISH)
        # Pub/sub channels are shared by every database of a Redis server: name ours after our db.
        self.channel = f"{CHANNEL}:db{redis.connection_pool.connection_kwargs.get('db', 0)}"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.connected = threading.Event()

    def publish(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False, default=str)
        keys = [SEQ_KEY, LOG_KEY, EPOCH_KEY, self.channel]
        self._script(keys=keys, args=[data, secrets.token_hex(4), REPLAY_EVENTS * 2, f"{time.time():.3f}"])

    def replay(self, last_id: str | None) -> list[LiveEvent] | None:
        parsed = parse_event_id(last_id)
        if parsed is None or not self.epoch or parsed[0] != self.epoch or parsed[1] > self.seq:
            return None
        return self._between(parsed[1], self.seq)

    def _between(self, after: int, upto: int) -> list[LiveEvent] | None:
        """Events ``after < seq <= upto``: from this relay's memory, else from the stream in Redis."""
        local = [ev for ev in list(self._recent) if ev.seq > after]
        if after >= upto or (local and local[0].seq == after + 1 and local[-1].seq >= upto):
            return self._complete(after, local, upto)
        try:
            rows = self.redis.xrange(LOG_KEY, min=f"{after + 1}-0", max=f"{upto}-0", count=REPLAY_EVENTS + 1)
        except Exception:
            log.warning("live events: replay buffer unreachable; the console resyncs")
            return None
        missed = [ev for ev in map(self._from_row, rows) if ev is not None]
        return self._complete(after, missed, upto)

    def _from_row(self, row: tuple[Any, dict[Any, Any]]) -> LiveEvent | None:
        entry_id, fields = row
        try:
            seq = int(_text(entry_id).split("-", 1)[0])
            data = _text(fields[b"d"])
            return LiveEvent(self.epoch, seq, json.loads(data), float(_text(fields[b"t"])), data)
        except (KeyError, ValueError):
            return None

    def start(self) -> None:
        """Start the relay thread (idempotent)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._relay_forever, name="madoguchi-live", daemon=True)
        self._thread.start()
        self.connected.wait(2.0)  # events published right after start reach this process's consoles

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.connected.clear()

    def _relay_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            pubsub = self.redis.pubsub()
            try:
                if not self.epoch:  # first connection of this process: relay from now on
                    self.redis.set(EPOCH_KEY, secrets.token_hex(4), nx=True)
                    epoch, seq = self.redis.mget(EPOCH_KEY, SEQ_KEY)
                    self.epoch, self.seq = _text(epoch), int(seq or 0)
                early = self._subscribe(pubsub)
                self._catch_up()
                for data in early:
                    self._on_message(data)
                self.connected.set()
                if failures:
                    log.warning("live events: Redis answers again; relaying")
                failures = 0
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)  # blocks until a message: no polling delay
                    if message is None:
                        continue
                    if message.get("type") == "message":
                        self._on_message(message["data"])
                    elif message.get("type") == "subscribe":  # redis-py reconnected and resubscribed
                        self._catch_up()
            except Exception as exc:
                self.connected.clear()
                failures += 1
                if failures == 1 or failures % 30 == 0:
                    log.warning("live events: Redis unreachable (%s: %s); retrying", type(exc).__name__, exc)
                log.debug("live relay failure", exc_info=True)
                self._stopping.wait(min(1.0, 0.2 * failures))
            finally:
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing the live pubsub failed", exc_info=True)

    def _subscribe(self, pubsub: Any) -> list[Any]:
        """Subscribe and wait for Redis to confirm; returns messages that arrived meanwhile."""
        pubsub.subscribe(self.channel)
        early: list[Any] = []
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            if message.get("type") == "subscribe":
                return early
            if message.get("type") == "message":
                early.append(message["data"])
        raise TimeoutError("Redis did not confirm the live-events subscription")

    def _catch_up(self) -> None:
        """After subscribing: deliver what was published meanwhile, or tell listeners to resync."""
        self.redis.set(EPOCH_KEY, secrets.token_hex(4), nx=True)
        epoch, seq = self.redis.mget(EPOCH_KEY, SEQ_KEY)
        epoch_text, current = _text(epoch), int(seq or 0)
        if epoch_text == self.epoch and current < self.seq:  # Redis came back from an older snapshot
            self.redis.eval(_NEW_EPOCH, 1, EPOCH_KEY, self.epoch, secrets.token_hex(4))
            epoch_text, current = _text(self.redis.get(EPOCH_KEY)), int(self.redis.get(SEQ_KEY) or 0)
        if epoch_text != self.epoch:
            self._restart_epoch(epoch_text, current, "the live event buffer was reset (Redis restarted)")
            return
        if current > self.seq:
            missed = self._between(self.seq, current)
            if missed is None:
                self._restart_epoch(epoch_text, current, "live events were missed while Redis was away")
                return
            for ev in missed:
                self._relay(ev)

    def _restart_epoch(self, epoch: str, seq: int, reason: str) -> None:
        self.epoch, self.seq = epoch, seq
        self._recent.clear()
        self._deliver(resync_event(epoch, seq, reason))

    def _on_message(self, raw: Any) -> None:
        try:
            epoch, seq_text, at, data = _text(raw).split(" ", 3)
            ev = LiveEvent(epoch, int(seq_text), json.loads(data), float(at), data)
        except ValueError:
            log.warning("dropping an unreadable live event")
            return
        if ev.epoch != self.epoch:
            self._restart_epoch(ev.epoch, ev.seq - 1, "the live event buffer was reset (Redis restarted)")
        elif ev.seq > self.seq + 1:  # a gap in an open connection: fill it from the stream
            missed = self._between(self.seq, ev.seq - 1)
            if missed is None:
                self._restart_epoch(ev.epoch, ev.seq - 1, "live events were missed")
            for earlier in missed or []:
                self._relay(earlier)
        self._relay(ev)

    def _relay(self, ev: LiveEvent) -> None:
        if ev.seq <= self.seq and not ev.is_resync:
            return  # already delivered (catch-up overlapping the live stream)
        self.seq = ev.seq
        self._deliver(ev)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
