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
    client = slack_client(settings.slack_api_base_url, settings.slack_bot_token)
    try:
        client.chat_postMessage(channel=settings.slack_alert_channel, text=text)
    except (SlackApiError, SlackClientError) as exc:
        # Raise so the job runner logs it; the live event already reached the consoles.
        raise RuntimeError(f"Slack alert for ticket {event['ticket_id']} failed: {exc}") from exc
    return True
