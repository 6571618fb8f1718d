"""Fixtures shared by the integration tests: a runtime whose Slack alerts go to a local Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.runtime import Runtime
from config.settings import Settings
from tests.conftest import clean_runtime
from tests.fakes.slack_server import SlackRecorder, slack_server


@pytest.fixture
def slack() -> Iterator[SlackRecorder]:
    with slack_server() as recorder:
        yield recorder


@pytest.fixture
def slack_runtime(migrated: Settings, slack: SlackRecorder) -> Iterator[Runtime]:
    settings = migrated.model_copy(
        update={
            "slack_bot_token": "xoxb-test-token",
            "slack_alert_channel": "C0SUPERVISORS",
            "slack_api_base_url": slack.base_url,
        }
    )
    with clean_runtime(settings, live=False) as runtime:
        yield runtime
