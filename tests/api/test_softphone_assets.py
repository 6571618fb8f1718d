"""The softphone's files are served from this server (no CDN): the vendored Twilio Voice SDK exactly as
fetched, its local WAV tones, and a console CSP that lets the browser reach only Twilio's signaling host."""

from __future__ import annotations

import hashlib
import io
import re
import wave
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "crm" / "console" / "static"
SDK = "/console/vendor/twilio-voice-sdk-2.18.5"


def test_the_vendored_sdk_is_served_unchanged_with_its_license(client: TestClient) -> None:
    res = client.get(f"{SDK}/twilio.min.js")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/javascript")
    sums = dict(
        reversed(line.split())
        for line in (STATIC / "vendor/twilio-voice-sdk-2.18.5/SHA256SUMS").read_text().splitlines()
    )
    assert hashlib.sha256(res.content).hexdigest() == sums["twilio.min.js"]
    assert "Apache License" in (STATIC / "vendor/twilio-voice-sdk-2.18.5/LICENSE.md").read_text()
    assert "2.18.5" in (STATIC / "vendor/README.md").read_text()


def test_every_sdk_sound_is_a_local_wav(client: TestClient) -> None:
    source = (STATIC / "softphone.js").read_text()
    names = re.search(r"SOUND_NAMES = \[([^\]]+)\]", source)
    assert names is not None
    sounds = re.findall(r'"([a-z0-9]+)"', names.group(1))
    assert set(sounds) >= {"incoming", "outgoing", "disconnect", "dtmf0", "dtmf9", "dtmfs", "dtmfh"}
    for name in sounds:
        res = client.get(f"/console/sounds/{name}.wav")
        assert res.status_code == 200 and res.headers["content-type"] == "audio/wav", name
        with wave.open(io.BytesIO(res.content)) as w:
            assert w.getnframes() > 0 and w.getframerate() == 8000
    assert "sdk.twilio.com" not in source


@pytest.mark.parametrize(
    "path",
    [
        f"{SDK}/twilio.js",
        f"{SDK}/LICENSE.md",
        f"{SDK}/..%2F..%2F__init__.py",
        "/console/vendor/twilio-voice-sdk-2.18.4/twilio.min.js",
        "/console/sounds/..%2Fsoftphone.js",
        "/console/sounds/incoming.mp3",
        "/console/sounds/INCOMING.wav",
        "/console/sounds/" + "a" * 300 + ".wav",
    ],
)
def test_other_paths_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_console_may_reach_only_itself_and_twilio_signaling(client: TestClient) -> None:
    csp = client.get("/console/softphone.js").headers["content-security-policy"]
    connect = next(p for p in csp.split(";") if p.strip().startswith("connect-src")).split()[1:]
    assert connect == ["'self'", "wss://voice-js.roaming.twilio.com"]
    assert "script-src 'self'" in csp  # the SDK is never loaded from a CDN
