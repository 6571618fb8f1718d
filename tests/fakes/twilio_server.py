"""A local HTTP server that answers like Twilio's REST API (2010-04-01 Calls), for tests.

Point the official SDK at it with ``MADOGUCHI_TWILIO_API_BASE_URL`` (``server.url``). It checks HTTP
Basic auth (account SID + auth token), records every request (method, path, form), keeps the calls
it knows (``server.state.calls``), and answers:

* ``POST /2010-04-01/Accounts/{sid}/Calls.json`` — create a call (a callback dial): 201 + a call resource;
* ``POST /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json`` — update (redirect to ``Url``): 200, or 404
  with Twilio's error 20404 for a call it does not know (``server.state.calls`` seeds live calls);
* ``POST …/Conferences/{ConferenceSid or FriendlyName}/Participants.json`` — dial a participant into a
  conference (created on first use, as Twilio does): 201 + the participant (``call_sid``,
  ``conference_sid``); ``POST …/Participants/{CallSid}.json`` — update (``Hold``, ``HoldUrl``, ...);
  ``DELETE …/Participants/{CallSid}.json`` — remove (204); 404 (20404) for an unknown conference or
  a call not in it. ``server.live_conference(name, *call_sids)`` seeds the legs that joined by TwiML.

``server.fail_next(status, n)`` makes the next ``n`` requests fail with ``status``;
``server.fail_next_to(method, path_part, status)`` the next one to a matching path. Also
:func:`sign` computes ``X-Twilio-Signature`` with the SDK's RequestValidator (to post webhooks).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-twilio-auth-token-0123456789"


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for ``url`` + ``form``."""
    return RequestValidator(token).compute_signature(url, form)


def join_softphone(http: Any, *, public: str, leg: str, user_id: int, ticket_id: int) -> Any:
    """What Twilio sends our TwiML App when counselor ``user_id``'s browser joins the call of ``ticket_id``
    (signed against ``public``, the MADOGUCHI_PUBLIC_BASE_URL); ``http`` is a TestClient or httpx client."""
    path = "/channels/twilio/client"
    form = {
        "CallSid": leg,
        "AccountSid": ACCOUNT_SID,
        "From": f"client:user-{user_id}",
        "ticket": str(ticket_id),
    }
    return http.post(path, data=form, headers={"X-Twilio-Signature": sign(public + path, form)})


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    status: int


@dataclass
class FakeTwilioState:
    requests: list[Recorded] = field(default_factory=list)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    conferences: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid -> name, participants
    failures: list[int] = field(default_factory=list)
    path_failures: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path part, status)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._answer(404, {"code": 20404, "message": "not found", "status": 404})

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        state = self.server.state
        status, body = self._route(form, method)
        with state.lock:
            state.requests.append(Recorded(method, self.path, form, status))
        self._answer(status, body)

    def _route(self, form: dict[str, str], method: str = "POST") -> tuple[int, dict[str, Any]]:
        state = self.server.state
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{self.server.token}".encode()).decode()
        if self.headers.get("authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        with state.lock:
            if state.failures:
                status = state.failures.pop(0)
                return status, {"code": 20500, "message": "scripted failure", "status": status}
            for i, (verb, part, status) in enumerate(state.path_failures):
                if verb == method and part in self.path:
                    del state.path_failures[i]
                    return status, {"code": 20500, "message": "scripted failure", "status": status}
        path = self.path.split("?")[0]
        conferences = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences/"
        if path.startswith(conferences) and "/Participants" in path:
            return self._participants(path[len(conferences) :], form, method)
        prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls"
        if path == f"{prefix}.json":
            sid = f"CA{next(self.server.ids):032x}"
            call = {
                "sid": sid,
                "to": form.get("To"),
                "from": form.get("From"),
                "status": "queued",
                "url": form.get("Url"),
            }
            with state.lock:
                state.calls[sid] = call
            return 201, {**call, "account_sid": ACCOUNT_SID}
        if path.startswith(prefix + "/") and path.endswith(".json"):
            sid = path[len(prefix) + 1 : -len(".json")]
            with state.lock:
                call = state.calls.get(sid)
                if call is None:
                    return 404, {
                        "code": 20404,
                        "message": f"The requested resource {path} was not found",
                        "status": 404,
                    }
                call.update({k.lower(): v for k, v in form.items()})
            return 200, {**call, "account_sid": ACCOUNT_SID}
        return 404, {"code": 20404, "message": "not found", "status": 404}

    def _participants(self, rest: str, form: dict[str, str], method: str) -> tuple[int, dict[str, Any]]:
        """``{conference}/Participants.json`` (create) or ``{conference}/Participants/{CallSid}.json``."""
        state = self.server.state
        conference, _, tail = rest.partition("/Participants")
        gone = {"code": 20404, "message": f"The requested resource {self.path} was not found", "status": 404}
        with state.lock:
            conf = state.conferences.get(conference) or next(
                (c for c in state.conferences.values() if c["friendly_name"] == conference), None
            )
            if tail == ".json" and method == "POST":
                if conf is None:
                    sid = f"CF{next(self.server.ids):032x}"
                    conf = state.conferences[sid] = {
                        "sid": sid,
                        "friendly_name": conference,
                        "participants": {},
                    }
                leg = f"CA{next(self.server.ids):032x}"
                state.calls[leg] = {
                    "sid": leg,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "status": "queued",
                }
                part = {"call_sid": leg, "label": form.get("Label"), "hold": False, "status": "queued"}
                conf["participants"][leg] = part
                return 201, {**part, "conference_sid": conf["sid"], "account_sid": ACCOUNT_SID}
            call_sid = tail.removeprefix("/").removesuffix(".json")
            part = conf["participants"].get(call_sid) if conf is not None else None
            if conf is None or part is None:
                return 404, gone
            if method == "DELETE":
                del conf["participants"][call_sid]
                if call_sid in state.calls:
                    state.calls[call_sid]["status"] = "completed"
                return 204, {}
            if "Hold" in form:
                part["hold"] = form["Hold"] == "true"
            part.update({k.lower(): v for k, v in form.items() if k != "Hold"})
            return 200, {**part, "conference_sid": conf["sid"], "account_sid": ACCOUNT_SID}

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        if status == 204:
            self.send_response(204)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = FakeTwilioState()
        self.token = token
        self.ids = itertools.count(1)


class FakeTwilioServer:
    """``with FakeTwilioServer() as server:`` — ``server.url`` for MADOGUCHI_TWILIO_API_BASE_URL."""

    def __init__(self, token: str = AUTH_TOKEN) -> None:
        self._server = _Server(token)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def state(self) -> FakeTwilioState:
        return self._server.state

    def live_call(self, sid: str, **fields: Any) -> None:
        """Make the server know a call in progress (one Twilio would be holding in a queue)."""
        with self.state.lock:
            self.state.calls[sid] = {"sid": sid, "status": "in-progress", **fields}

    def live_conference(self, name: str, *call_sids: str) -> str:
        """Make the server know conference ``name`` with these legs in it (joined by TwiML); its SID."""
        with self.state.lock:
            sid = f"CF{next(self._server.ids):032x}"
            parts = {
                c: {"call_sid": c, "label": None, "hold": False, "status": "connected"} for c in call_sids
            }
            self.state.conferences[sid] = {"sid": sid, "friendly_name": name, "participants": parts}
            for call_sid in call_sids:
                self.state.calls.setdefault(call_sid, {"sid": call_sid, "status": "in-progress"})
        return sid

    def participant(self, name: str, call_sid: str) -> dict[str, Any] | None:
        """The leg ``call_sid`` of conference ``name`` as the server holds it (None: not in it)."""
        with self.state.lock:
            for conf in self.state.conferences.values():
                if conf["friendly_name"] == name:
                    return conf["participants"].get(call_sid)
        return None

    def fail_next(self, status: int, count: int = 1) -> None:
        with self.state.lock:
            self.state.failures.extend([status] * count)

    def fail_next_to(self, method: str, path_part: str, status: int) -> None:
        """The next ``method`` request whose path contains ``path_part`` fails with ``status``."""
        with self.state.lock:
            self.state.path_failures.append((method, path_part, status))

    def __enter__(self) -> FakeTwilioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def play_call(base: str, *, number: str, caller: str, postal: str, token: str, sid: str) -> list[str]:
    """Play the start of a 188 call against a running server (signed like Twilio): greeting, menu 1,
    the postal code; returns what each step answered (its spoken text and final verb)."""
    import xml.etree.ElementTree as ET

    import httpx

    form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": caller, "To": number}
    url = f"{base.rstrip('/')}/channels/twilio/voice"
    lines: list[str] = []
    for digits in (None, "1", postal):
        data = {**form, **({"Digits": digits} if digits else {})}
        res = httpx.post(url, data=data, headers={"X-Twilio-Signature": sign(url, data, token)}, timeout=10)
        if res.status_code != 200:
            lines.append(f"{res.status_code}: {res.text}")
            break
        root = ET.fromstring(res.text)
        said = " ".join(e.text or "" for e in root.iter("Say"))
        verbs = [e.tag for e in root]
        lines.append(f"{' '.join(verbs)} | {said}")
        gather = root.find("Gather")
        if gather is None:
            enqueue = root.find("Enqueue")
            if enqueue is not None:
                lines.append(f"queued at {enqueue.text}")
            break
        url = gather.get("action") or url
    return lines


if __name__ == "__main__":
    import argparse

    from crm.demo_channels import DEMO_188_NUMBER, demo_twilio_auth_token

    parser = argparse.ArgumentParser(description="Play a signed 188 call against a running Madoguchi")
    parser.add_argument("command", choices=["call"])
    parser.add_argument(
        "--base", default="http://127.0.0.1:8000", help="= MADOGUCHI_PUBLIC_BASE_URL of the server"
    )
    parser.add_argument("--number", default=DEMO_188_NUMBER)
    parser.add_argument("--caller", default="+819011112222")
    parser.add_argument("--postal", default="1540001")
    parser.add_argument("--token", default=demo_twilio_auth_token(), help="the number's auth token")
    parser.add_argument("--sid", default="CA" + "d" * 32)
    args = parser.parse_args()
    for line in play_call(
        args.base, number=args.number, caller=args.caller, postal=args.postal, token=args.token, sid=args.sid
    ):
        print(line)
