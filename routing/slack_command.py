"""The ``/madoguchi`` Slack slash command: queue status and who is available, for supervisors.

``POST /integrations/slack/commands`` is what the Slack app's slash command points at. Order of checks:
size (413) → UTF-8 (400) → Slack's signature with slack-sdk's ``SignatureVerifier`` and its 5-minute window on
``X-Slack-Request-Timestamp`` (401) → the same signed request seen before (401, replay) → the form
(400). The answer is an ephemeral message (only the caller sees it) within Slack's 3 s.

No personal data in any Slack text: centers, counts, waiting times and counselors' numbers (#id,
looked up in the console), never a consumer's name, identity or message, nor a counselor's name.

    /madoguchi                 queue status of every center
    /madoguchi status TKY      one center
    /madoguchi who [TKY]       who is available (受付可)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from config.clock import JST, now_utc
from config.runtime import Runtime
from crm.deps import RuntimeDep
from crm.errors import BadRequest, DomainError, PayloadTooLarge, Unauthorized
from crm.models import Center, Role, Ticket, TicketStatus, User
from routing.models import Presence, PresenceStatus

router = APIRouter()
MAX_BODY_BYTES = 8 * 1024  # Slack's command forms are well under 4 KB
REPLAY_WINDOW_SECONDS = 5 * 60
MAX_CENTERS_LISTED = 30
STATE_LABELS = {
    PresenceStatus.AVAILABLE: "受付可 available",
    PresenceStatus.BUSY: "対応中 busy",
    PresenceStatus.AFTER_CALL_WORK: "後処理 after-call work",
    PresenceStatus.BREAK: "休憩 break",
    PresenceStatus.OFFLINE: "オフライン offline",
}
USAGE = (
    "Usage: `/madoguchi` (queue status of every center), `/madoguchi status <center code>`, "
    "`/madoguchi who [<center code>]` (who is 受付可 available)."
)


class SlackNotConfigured(DomainError):
    status_code = 503


class SeenSignatures:
    """Signatures answered in the last 5 minutes (Redis when deployed, else this process's memory)."""

    def __init__(self, redis: Any = None) -> None:
        self.redis = redis
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        """True the first time ``signature`` is seen within the window, False for a replay."""
        if self.redis is not None:
            key = f"madoguchi:slack:seen:{signature[-64:]}"
            return bool(self.redis.set(key, b"1", nx=True, ex=REPLAY_WINDOW_SECONDS + 60))
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {s: t for s, t in self._seen.items() if now - t < REPLAY_WINDOW_SECONDS + 60}
            if signature in self._seen:
                return False
            self._seen[signature] = now
        return True


def _seen_signatures(runtime: Runtime) -> SeenSignatures:
    seen = getattr(runtime, "_slack_seen", None)
    if seen is None:
        seen = SeenSignatures(runtime.redis)
        runtime._slack_seen = seen  # type: ignore[attr-defined]
    return seen


def verify_slack_request(runtime: Runtime, body: bytes, headers: dict[str, str]) -> None:
    """Raise unless Slack signed ``body`` in the last 5 minutes and this is the first time we see it."""
    secret = runtime.settings.slack_signing_secret
    if not secret.strip():
        raise SlackNotConfigured(
            "the Slack command is not configured: set MADOGUCHI_SLACK_SIGNING_SECRET to the Slack app's signing secret"
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:  # Slack sends UTF-8; slack-sdk cannot even check other bytes
        raise BadRequest("the body is not UTF-8: Slack command forms are UTF-8 form-encoded") from exc
    try:
        valid = SignatureVerifier(secret).is_valid_request(body, headers)
    except (ValueError, TypeError):  # a timestamp that is not a number
        valid = False
    if not valid:
        raise Unauthorized(
            "the Slack signature is missing, wrong or older than 5 minutes "
            "(check the signing secret and the server clock)"
        )
    if not _seen_signatures(runtime).first_time(headers.get("x-slack-signature", "")):
        raise Unauthorized("this signed Slack request was already answered (replayed request)")


def parse_command(body: bytes) -> tuple[str, list[str]]:
    """(command, words of its text) from Slack's form body; BadRequest names what is wrong."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(
            "the body is not a Slack command form (UTF-8, application/x-www-form-urlencoded)"
        ) from exc
    command = (form.get("command") or [""])[0].strip()
    if not command:
        raise BadRequest("the form has no 'command' field: point a Slack slash command at this URL")
    return command, (form.get("text") or [""])[0].split()


def answer(session: Session, command: str, words: list[str], now: datetime) -> str:
    """The text of the answer to ``/madoguchi <words>`` (no personal data)."""
    if command != "/madoguchi":
        return f"Unknown command {command[:40]}. {USAGE}"
    verb = words[0].lower() if words else "status"
    code = words[1] if len(words) > 1 else None
    if verb not in ("status", "who", "help") and len(words) == 1:
        verb, code = "status", words[0]  # `/madoguchi TKY`
    if verb == "help":
        return USAGE
    if verb not in ("status", "who"):
        return f"Unknown subcommand {verb[:20]}. {USAGE}"
    centers = _centers(session, code)
    if not centers:
        return f"No center with the code {code[:20]}. {USAGE}" if code else "No centers are set up yet."
    stamp = now.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    lines = [f"*Madoguchi — {'queue status' if verb == 'status' else 'who is available'}* ({stamp})"]
    for center in centers[:MAX_CENTERS_LISTED]:
        lines.append(_status_line(session, center, now) if verb == "status" else _who_line(session, center))
    if len(centers) > MAX_CENTERS_LISTED:
        lines.append(f"… and {len(centers) - MAX_CENTERS_LISTED} more centers: ask for one with its code.")
    return "\n".join(lines)


def _centers(session: Session, code: str | None) -> list[Center]:
    stmt = select(Center).order_by(col(Center.code))
    if code:
        stmt = stmt.where(col(Center.code) == code.upper())
    return list(session.exec(stmt).all())


def _presence(session: Session, center_id: int | None) -> list[tuple[int, PresenceStatus]]:
    rows = session.exec(
        select(Presence.user_id, Presence.status)
        .join(User, col(User.id) == col(Presence.user_id))
        .where(User.center_id == center_id, User.is_active == True, User.role != Role.ADMIN)  # noqa: E712
        .order_by(col(Presence.user_id))
    ).all()
    return [(int(uid), PresenceStatus(status)) for uid, status in rows]


def _status_line(session: Session, center: Center, now: datetime) -> str:
    waiting = session.exec(
        select(Ticket.status, Ticket.queued_at).where(
            Ticket.center_id == center.id,
            col(Ticket.status).in_((TicketStatus.QUEUED, TicketStatus.OFFERED)),
        )
    ).all()
    waits = [(now - _aware(q)).total_seconds() for _, q in waiting if q is not None]
    offered = sum(1 for s, _ in waiting if s == TicketStatus.OFFERED)
    states = Counter(status for _, status in _presence(session, center.id))
    staff = ", ".join(f"{STATE_LABELS[s]} {n}" for s, n in sorted(states.items()) if n) or "none logged in"
    longest = f", longest wait {_minutes(max(waits))}" if waits else ""
    return f"• {center.code} {center.name}: waiting {len(waiting)} (offered {offered}){longest}; counselors: {staff}"


def _who_line(session: Session, center: Center) -> str:
    available = [uid for uid, status in _presence(session, center.id) if status == PresenceStatus.AVAILABLE]
    if not available:
        return f"• {center.code} {center.name}: nobody is 受付可 available"
    shown = ", ".join(f"#{uid}" for uid in available[:20]) + (" …" if len(available) > 20 else "")
    return f"• {center.code} {center.name}: {STATE_LABELS[PresenceStatus.AVAILABLE]} {len(available)} — counselors {shown}"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _minutes(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@router.post("/integrations/slack/commands", tags=["slack"])
async def slack_command(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    """Answer the ``/madoguchi`` slash command (signed by Slack; ephemeral answer, no personal data)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"a Slack command body is at most {MAX_BODY_BYTES} bytes")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await run_in_threadpool(_handle, runtime, body, headers)


def _handle(runtime: Runtime, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    verify_slack_request(runtime, body, headers)
    command, words = parse_command(body)
    with Session(runtime.engine) as session:
        text = answer(session, command, words, now_utc())
    return {"response_type": "ephemeral", "text": text}
