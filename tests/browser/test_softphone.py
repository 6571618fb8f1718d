"""The browser softphone in Chromium (issue 12): the real Twilio Voice JS SDK, vendored, on a page.

Nothing leaves this machine except the SDK's signaling WebSocket to Twilio, which the test either
blocks (the panel must say "Twilio unreachable", as on LGWAN) or answers itself with the few signaling
messages that register a device (the SDK is unchanged, its socket is routed to the test). The
callback (折り返し) button dials through our API into the local Twilio REST stand-in, and so do the
warm transfer (相談転送) buttons.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from app import create_app
from config.runtime import Runtime, get_runtime
from config.settings import Settings
from crm.console import CSP
from crm.models import Center, ChannelAccount, Role, Ticket
from routing import presence
from routing.models import PresenceStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.workspace_support import poll, settle, watch_errors
from tests.conftest import _reset_database
from tests.factories import PASSWORD, make_user
from tests.fakes.twilio_server import ACCOUNT_SID, FakeTwilioServer, join_softphone, sign
from tests.live_server import serve
from tests.voice_support import CALLER, NUMBER, PUBLIC, add_188_number, tokyo_centers, twilio_settings

SIGNALING = "wss://voice-js.roaming.twilio.com/**"


def _harness(ticket_id: int) -> str:
    """The page the lead will wire into the console, reduced to the panel's own tags (no inline script)."""
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>softphone</title>
<link rel="stylesheet" href="/console/softphone.css">
<script src="/console/vendor/twilio-voice-sdk-2.18.5/twilio.min.js" defer></script>
<script src="/console/softphone.js" defer></script></head>
<body><section id="softphone" data-madoguchi-softphone data-ticket-id="{ticket_id}"
 data-register-timeout-ms="4000"></section></body></html>"""


class Seen:
    """Every request and WebSocket the page opened; anything not on this server is aborted."""

    def __init__(self, base: str) -> None:
        self.base = urlsplit(base).netloc
        self.outside: list[str] = []
        self.sockets: list[str] = []

    def refuse_socket(self, ws: Any) -> None:
        self.outside.append(ws.url)
        ws.close()

    def twilio(self, handler: Any) -> Any:
        """Record the SDK's signaling socket, then let ``handler`` play Twilio's side."""

        def route(ws: Any) -> None:
            self.sockets.append(ws.url)
            handler(ws)

        return route

    def route(self, route: Any, ticket_id: int) -> None:
        url = urlsplit(route.request.url)
        if url.netloc != self.base:
            self.outside.append(route.request.url)
            route.abort()
        elif url.path == "/softphone-harness":
            route.fulfill(
                status=200,
                body=_harness(ticket_id),
                headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP},
            )
        else:
            route.continue_()


@pytest.fixture(scope="module")
def media_browser(browser: Any) -> Iterator[Any]:
    """Chromium with a fake microphone (a counselor's headset), beside the session's plain one."""
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield b
    b.close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture
def site(migrated: Settings, twilio: FakeTwilioServer) -> Iterator[tuple[str, Runtime, dict[str, Any]]]:
    """The app on a real port, a 188 number, and a caller who pressed * (折り返し) and was assigned."""
    settings = twilio_settings(
        migrated,
        twilio,
        twilio_api_key="SK" + "0" * 32,
        twilio_api_secret="test-api-key-secret-0123456789abcdef",
        twilio_twiml_app_sid="AP" + "0" * 32,
    )
    with serve(create_app(settings)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as s:
            _, setagaya = tokyo_centers(s)
            counselor = make_user(s, setagaya, "setagaya-counselor")
            make_user(s, setagaya, "setagaya-lead", role=Role.SUPERVISOR)
            presence.set_presence(s, user=counselor, status=PresenceStatus.AVAILABLE, settings=settings)
            public_id = add_188_number(s, settings)
        ticket_id = _caller_asks_for_a_callback(url, runtime, public_id)
        yield url, runtime, {"ticket_id": ticket_id}


def _caller_asks_for_a_callback(url: str, runtime: Runtime, public_id: str) -> int:
    """Play the call through the signed webhooks: 郵便番号 → queue → * → the counselor accepts."""
    sid = "CA" + "7" * 32
    base = f"/channels/twilio/{public_id}/voice"
    with httpx.Client(base_url=url) as http:

        def post(path: str, **extra: str) -> None:
            form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": NUMBER, **extra}
            res = http.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)})
            assert res.status_code == 200, res.text

        post("/channels/twilio/voice")
        post(f"{base}/menu", Digits="1")
        post(f"{base}/postal?attempt=1", Digits="1540001")
        settle(runtime)
        post(f"{base}/keys?queue=tokyo-setagaya", Digits="*")
        post(f"{base}/exit?queue=tokyo-setagaya", QueueResult="leave")
        settle(runtime)
        token = http.post(
            "/api/auth/token", data={"username": "setagaya-counselor", "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        offers = http.get("/api/offers", headers=auth).json()
        assert len(offers) == 1, offers
        assert http.post(f"/api/offers/{offers[0]['id']}/accept", headers=auth).status_code == 200
        settle(runtime)
        return int(offers[0]["ticket_id"])


def _open_panel(browser: Any, url: str, username: str, ticket_id: int) -> tuple[Any, Seen]:
    page = browser.new_page()
    seen = Seen(url)
    page.route("**/*", lambda route: seen.route(route, ticket_id))
    page.route_web_socket(re.compile(".*"), seen.refuse_socket)  # any socket but Twilio's (routed later)
    res = page.request.post(f"{url}/api/auth/token", form={"username": username, "password": PASSWORD})
    assert res.status == 200, res.text()  # the session cookie the panel's fetches carry
    return page, seen


def _answer_signaling(ws: Any, invites: list[dict[str, Any]] | None = None) -> None:
    """Twilio's side of the signaling socket, reduced to registering: listen → connected, register → ready
    (a call's ``invite`` is only collected into ``invites``)."""

    def on_message(message: str | bytes) -> None:
        kind = json.loads(message).get("type")
        if kind == "invite" and invites is not None:
            invites.append(json.loads(message))
        if kind == "listen":
            ws.send(
                json.dumps({"type": "connected", "payload": {"region": "jp1", "token": {"identity": "x"}}})
            )
        elif kind == "register":
            ws.send(json.dumps({"type": "ready", "payload": {}}))

    ws.on_message(on_message)


def test_without_twilio_the_panel_says_unreachable_in_japanese_and_nothing_else_leaves(
    site: tuple[str, Runtime, dict[str, Any]], browser: Any
) -> None:
    url, _, ids = site
    page, seen = _open_panel(browser, url, "setagaya-counselor", ids["ticket_id"])
    errors = watch_errors(page)
    page.route_web_socket(SIGNALING, seen.twilio(lambda ws: ws.close(code=1011, reason="blocked (LGWAN)")))
    page.goto(f"{url}/softphone-harness")
    poll(page, "() => document.querySelector('#softphone').dataset.state === 'unreachable'")
    assert page.inner_text("#softphone .sp-state") == "Twilio に接続できません"
    assert "LGWAN" in page.inner_text("#softphone .sp-detail")
    assert page.inner_text("#softphone .sp-title") == "ソフトフォン"
    poll(page, "() => !document.querySelector('#softphone .sp-badge').hidden")
    assert page.inner_text("#softphone .sp-badge") == "折り返し"
    callback = page.locator("#softphone .sp-call_back")
    assert callback.inner_text() == "折り返し発信" and callback.is_disabled()  # never ring into an empty call
    assert "ソフトフォンが待受中" in (callback.get_attribute("title") or "")
    assert seen.outside == []  # no CDN: sounds and the SDK came from this server
    assert seen.sockets and all(urlsplit(s).netloc == "voice-js.roaming.twilio.com" for s in seen.sockets)
    assert errors == []
    page.close()


def test_the_call_back_button_dials_the_consumer_through_the_api(
    site: tuple[str, Runtime, dict[str, Any]], media_browser: Any, twilio: FakeTwilioServer
) -> None:
    url, _, ids = site
    page, seen = _open_panel(media_browser, url, "setagaya-counselor", ids["ticket_id"])
    errors = watch_errors(page)
    page.route_web_socket(SIGNALING, seen.twilio(_answer_signaling))
    page.goto(f"{url}/softphone-harness")
    poll(page, "() => document.querySelector('#softphone').dataset.state === 'ready'")
    assert page.inner_text("#softphone .sp-state") == "待受中"
    callback = page.locator("#softphone .sp-call_back")
    poll(
        page,
        "() => { const b = document.querySelector('#softphone .sp-call_back'); return !b.hidden && !b.disabled; }",
    )
    with page.expect_response(
        lambda r: r.url.endswith(f"/api/voice/calls/{ids['ticket_id']}/callback")
    ) as hit:
        callback.click()
    assert hit.value.status == 200, hit.value.text()
    dials = [r for r in twilio.state.requests if r.path.endswith("/Calls.json")]
    assert len(dials) == 1 and dials[0].form["To"] == CALLER and dials[0].form["From"] == NUMBER
    poll(
        page, "() => document.querySelector('#softphone .sp-message').textContent.includes('折り返し発信中')"
    )
    assert seen.outside == []
    assert errors == []
    page.close()


def test_a_supervisor_sees_listen_whisper_barge_only_on_a_connected_call(
    site: tuple[str, Runtime, dict[str, Any]], browser: Any
) -> None:
    url, _, ids = site
    page, _ = _open_panel(browser, url, "setagaya-lead", ids["ticket_id"])
    page.route_web_socket(SIGNALING, _answer_signaling)
    page.goto(f"{url}/softphone-harness")
    poll(page, "() => document.querySelector('#softphone').dataset.state === 'ready'")
    poll(page, "() => document.querySelector('#softphone .sp-ticket').textContent.includes('折り返し待ち')")
    assert page.locator("#softphone .sp-supervise").is_hidden()  # nobody to listen to yet
    assert page.locator("#softphone .sp-call_back").is_hidden()  # only the assignee dials
    page.close()


def test_without_a_microphone_the_consumer_is_not_rung(
    site: tuple[str, Runtime, dict[str, Any]], browser: Any, twilio: FakeTwilioServer
) -> None:
    url, _, ids = site
    page, _ = _open_panel(browser, url, "setagaya-counselor", ids["ticket_id"])
    page.route_web_socket(SIGNALING, _answer_signaling)
    page.goto(f"{url}/softphone-harness")
    poll(
        page,
        "() => { const b = document.querySelector('#softphone .sp-call_back'); return !b.hidden && !b.disabled; }",
    )
    page.click("#softphone .sp-call_back")
    poll(page, "() => document.querySelector('#softphone .sp-message').textContent.includes('マイク')")
    assert [r for r in twilio.state.requests if r.path.endswith("/Calls.json")] == []
    page.close()


def test_a_supervisors_whisper_sends_the_counselors_call_to_twilio(
    site: tuple[str, Runtime, dict[str, Any]], media_browser: Any, twilio: FakeTwilioServer
) -> None:
    url, runtime, ids = site
    leg = "CA" + "5" * 32
    with httpx.Client(base_url=url) as http:
        token = http.post(
            "/api/auth/token", data={"username": "setagaya-counselor", "password": PASSWORD}
        ).json()["access_token"]
        me = http.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["id"]
        res = http.post(
            f"/api/voice/calls/{ids['ticket_id']}/callback", headers={"Authorization": f"Bearer {token}"}
        )
        assert res.status_code == 200, res.text
        dial = next(r for r in twilio.state.requests if r.path.endswith("/Calls.json"))
        answered = urlsplit(dial.form["Url"])  # the consumer answers the call back
        form = {"CallSid": "CA" + "6" * 32, "AccountSid": ACCOUNT_SID, "From": NUMBER, "To": CALLER}
        path = f"{answered.path}?{answered.query}"
        assert (
            http.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)}).status_code
            == 200
        )
        joined = {
            "CallSid": leg,
            "AccountSid": ACCOUNT_SID,
            "From": f"client:user-{me}",
            "ticket": str(ids["ticket_id"]),
        }
        client_path = "/channels/twilio/client"
        res = http.post(
            client_path, data=joined, headers={"X-Twilio-Signature": sign(PUBLIC + client_path, joined)}
        )
        assert res.status_code == 200 and "<Conference" in res.text, res.text
    invites: list[dict[str, Any]] = []

    def signaling(ws: Any) -> None:
        _answer_signaling(ws)
        ws.on_message(
            lambda m: invites.append(json.loads(m)) if json.loads(m).get("type") == "invite" else None
        )

    page, seen = _open_panel(media_browser, url, "setagaya-lead", ids["ticket_id"])
    errors = watch_errors(page)
    page.route_web_socket(SIGNALING, seen.twilio(lambda ws: _answer_signaling(ws, invites)))
    page.goto(f"{url}/softphone-harness")
    poll(page, "() => !document.querySelector('#softphone .sp-supervise').hidden")
    labels = page.locator("#softphone .sp-supervise button").all_inner_texts()
    assert labels == ["モニタリング", "ささやき (コーチング)", "割り込み"]
    poll(page, "() => !document.querySelector('#softphone .sp-whisper').disabled")
    page.click("#softphone .sp-whisper")
    deadline = time.monotonic() + 15
    while not invites and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert invites, "the SDK never asked Twilio to connect"
    params = parse_qs(invites[0]["payload"]["twilio"]["params"])
    assert params == {"ticket": [str(ids["ticket_id"])], "mode": ["whisper"], "coach_call": [leg]}
    assert seen.outside == [] and errors == []
    page.close()


# 相談転送 (warm transfer): pick a colleague, ring them (the caller is held: 保留中), they answer
# (相談中), cancel (the caller is back), ring again, complete (the colleague owns the call).

COUNSELOR_LEG = "CA" + "5" * 32
CALLER_LEG = "CA" + "6" * 32


def _connect_the_call_back(url: str, twilio: FakeTwilioServer, ticket_id: int) -> None:
    """The counselor dials the 折り返し, the consumer answers, the counselor's softphone joins."""
    with httpx.Client(base_url=url) as http:
        auth = {
            "Authorization": "Bearer "
            + http.post(
                "/api/auth/token", data={"username": "setagaya-counselor", "password": PASSWORD}
            ).json()["access_token"]
        }
        me = http.get("/api/me", headers=auth).json()["id"]
        assert http.post(f"/api/voice/calls/{ticket_id}/callback", headers=auth).status_code == 200
        dial = next(r for r in twilio.state.requests if r.path.endswith("/Calls.json"))
        answered = urlsplit(dial.form["Url"])
        path = f"{answered.path}?{answered.query}"
        form = {"CallSid": CALLER_LEG, "AccountSid": ACCOUNT_SID, "From": NUMBER, "To": CALLER}
        res = http.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)})
        assert res.status_code == 200, res.text
        res = join_softphone(http, public=PUBLIC, leg=COUNSELOR_LEG, user_id=me, ticket_id=ticket_id)
        assert res.status_code == 200 and "<Conference" in res.text, res.text
    twilio.live_conference(f"ticket-{ticket_id}", CALLER_LEG, COUNSELOR_LEG)


def _colleague(runtime: Runtime) -> int:
    with Session(runtime.engine, expire_on_commit=False) as s:
        setagaya = s.exec(select(Center).where(Center.code == "tokyo-setagaya")).one()
        user = make_user(s, setagaya, "setagaya-second", display_name="佐藤")
        presence.set_presence(s, user=user, status=PresenceStatus.AVAILABLE, settings=runtime.settings)
        return int(user.id or 0)


def _answers(url: str, public_id: str, ticket_id: int, leg: str) -> None:
    path = f"/channels/twilio/{public_id}/voice/consult?ticket={ticket_id}"
    form = {"CallSid": leg, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress", "From": NUMBER, "To": "x"}
    res = httpx.post(url + path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)})
    assert res.status_code == 200, res.text


def _consult_leg(twilio: FakeTwilioServer) -> str:
    conf = next(iter(twilio.state.conferences.values()))
    return next(c for c in conf["participants"] if c not in (CALLER_LEG, COUNSELOR_LEG))


def _ring(page: Any, ticket_id: int, colleague: int) -> None:
    page.get_by_role("button", name="相談転送").click()
    page.get_by_label("相談先").select_option(f"user:{colleague}")
    page.get_by_label("理由 (タイムラインに表示)").fill("契約書の読み方")
    with page.expect_response(lambda r: r.url.endswith(f"/api/voice/calls/{ticket_id}/consult")) as hit:
        page.get_by_role("button", name="呼出").click()
    assert hit.value.status == 200, hit.value.text()
    poll(page, "() => document.querySelector('#softphone .sp-hold').textContent.includes('佐藤 を呼出中')")
    assert page.inner_text("#softphone .sp-hold").startswith("保留中")
    assert page.get_by_role("button", name="転送完了").is_disabled()  # not answered yet


def test_the_warm_transfer_buttons_hold_consult_cancel_and_complete(
    site: tuple[str, Runtime, dict[str, Any]],
    browser: Any,
    twilio: FakeTwilioServer,
) -> None:
    url, runtime, ids = site
    ticket_id = ids["ticket_id"]
    _connect_the_call_back(url, twilio, ticket_id)
    colleague = _colleague(runtime)
    with Session(runtime.engine) as s:
        public_id = _public_id(s)
    page, seen = _open_panel(browser, url, "setagaya-counselor", ticket_id)
    errors = watch_errors(page)
    page.route_web_socket(SIGNALING, seen.twilio(_answer_signaling))
    page.goto(f"{url}/softphone-harness")
    poll(page, "() => !document.querySelector('#softphone .sp-consult').hidden")

    _ring(page, ticket_id, colleague)
    caller = twilio.participant(f"ticket-{ticket_id}", CALLER_LEG)
    assert caller is not None and caller["hold"] is True
    _answers(url, public_id, ticket_id, _consult_leg(twilio))
    poll(page, "() => document.querySelector('#softphone .sp-hold').textContent.includes('佐藤 と相談中')")
    with page.expect_response(lambda r: r.url.endswith("/consult/cancel")) as hit:
        page.get_by_role("button", name="転送取消").click()
    assert hit.value.status == 200, hit.value.text()
    poll(page, "() => document.querySelector('#softphone .sp-hold').hidden")
    assert twilio.participant(f"ticket-{ticket_id}", CALLER_LEG)["hold"] is False  # type: ignore[index]

    _ring(page, ticket_id, colleague)
    _answers(url, public_id, ticket_id, _consult_leg(twilio))
    poll(page, "() => !document.querySelector('#softphone .sp-consult_complete').disabled", timeout=15)
    with page.expect_response(lambda r: r.url.endswith("/consult/complete")) as hit:
        page.get_by_role("button", name="転送完了").click()
    assert hit.value.status == 200, hit.value.text()
    poll(
        page,
        "() => document.querySelector('#softphone .sp-message').textContent.includes('佐藤 に転送しました')",
    )
    assert page.locator("#softphone .sp-consult").is_hidden()  # not this counselor's call any more
    with Session(runtime.engine) as s:
        assert s.get(Ticket, ticket_id).assignee_id == colleague  # type: ignore[union-attr]
    assert seen.outside == [] and errors == []
    page.close()


def _public_id(session: Session) -> str:
    return str(session.exec(select(ChannelAccount.public_id).where(ChannelAccount.kind == "voice")).one())
