"""Supervisor alerts through Slack (slack-sdk), for events that cannot wait: 重大事故等.

The Slack message carries no personal data: ticket number, center and the detection reasons only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from config.runtime import get_runtime
from crm.models import Center

log = logging.getLogger(__name__)


def slack_client(base_url: str, token: str) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=10)


def alert_serious_accident(event: dict[str, Any]) -> bool:
    """Handler for SeriousAccidentSuspected: post to the supervisors' Slack channel."""
    runtime = get_runtime()
    settings = runtime.settings
    if not settings.slack_enabled:
        log.warning(
            "serious accident suspected on ticket %s; Slack alerts are not configured", event["ticket_id"]
        )
        return False
    with Session(runtime.engine) as session:
        center = session.get(Center, event["center_id"])
    reasons = "、".join(event.get("reasons") or ()) or "—"
    text = (
        f":rotating_light: 重大事故等の疑い (suspected serious accident) — ticket #{event['ticket_id']}"
        f" at {center.name if center else event['center_id']}. Reasons: {reasons}. "
        "Notify the Consumer Affairs Agency immediately (消費者安全法 第12条1項)."
    )
    _post(
        text, what=f"Slack alert for ticket {event['ticket_id']}"
    )  # the live event already reached the consoles
    return True


def alert_overdue_accident(event: dict[str, Any]) -> bool:
    """Handler for AccidentNotificationOverdue: remind the supervisors' Slack channel (no personal data)."""
    runtime = get_runtime()
    settings = runtime.settings
    if not settings.slack_enabled:
        log.warning(
            "重大事故等 notification overdue on ticket %s; Slack alerts are not configured",
            event["ticket_id"],
        )
        return False
    with Session(runtime.engine) as session:
        center = session.get(Center, event["center_id"])
    minutes = int(event.get("elapsed_seconds") or 0) // 60
    what = (
        f"第{event['report_no']}報 draft #{event['report_id']} is still not notified"
        if event.get("report_id")
        else "flagged as 重大事故等 but no notification draft has been opened"
    )
    text = (
        f":warning: 重大事故等の通知が未了 (notification overdue) — ticket #{event['ticket_id']}"
        f" at {center.name if center else event['center_id']}: {what},"
        f" {minutes // 60}時間{minutes % 60}分 after 情報を得た日時."
        " Notify the Consumer Affairs Agency now (消費者安全法 第12条1項 直ちに)."
    )
    _post(text, what=f"Slack overdue alert for ticket {event['ticket_id']}")
    return True


def alert_stale_check(event: dict[str, Any]) -> bool:
    """Handler for AccidentCheckOverdue: a possible 重大事故等 nobody judged in time (no personal data)."""
    runtime = get_runtime()
    if not runtime.settings.slack_enabled:
        log.warning(
            "possible 重大事故等 not judged on ticket %s; Slack alerts are not configured", event["ticket_id"]
        )
        return False
    with Session(runtime.engine) as session:
        center = session.get(Center, event["center_id"])
    minutes = int(event.get("pending_seconds") or 0) // 60
    _post(
        f":warning: 重大事故等の要確認が未判断 (possible serious accident not judged) — ticket #{event['ticket_id']}"
        f" at {center.name if center else event['center_id']}: check {event['check_id']} pending for"
        f" {minutes // 60}時間{minutes % 60}分. Confirm it or rule it out now.",
        what=f"Slack check alert for ticket {event['ticket_id']}",
    )
    return True


def _post(text: str, *, what: str) -> None:
    """Post ``text`` to the supervisors' channel; raise so the job runner logs a failure."""
    settings = get_runtime().settings
    client = slack_client(settings.slack_api_base_url, settings.slack_bot_token)
    try:
        client.chat_postMessage(channel=settings.slack_alert_channel, text=text)
    except (SlackApiError, SlackClientError) as exc:
        raise RuntimeError(f"{what} failed: {exc}") from exc
