"""The TwiML of every IVR step, in Japanese (``language="ja-JP"``, a configurable Polly voice).

Pure: each function takes the texts' inputs and the URLs to post to, and returns the XML string
built with the official SDK's :class:`twilio.twiml.voice_response.VoiceResponse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

LANGUAGE = "ja-JP"

GREETING = "お電話ありがとうございます。消費者ホットラインです。"
PRIVACY = (
    "この通話は、相談内容を正確に記録するため録音させていただく場合があります。"
    "お伺いした個人情報は、相談対応のためにのみ利用します。"
)
MENU = (
    "お住まいの郵便番号がわかる方は1を、わからない方は2を押してください。"
    "操作がわからない場合は、そのままお待ちください。"
)
ASK_POSTAL = "お住まいの郵便番号を7桁で入力してください。市外局番ではなく、郵便番号です。"
POSTAL_AGAIN = "郵便番号を確認できませんでした。もう一度、7桁で入力してください。"
CONNECTING = "{name}におつなぎします。"
HOLD = "ただいま電話が混み合っております。順番におつなぎしますので、このままお待ちください。"
POSITION = "あなたは{position}番目にお待ちです。"
ESTIMATE = "おおよその待ち時間は{minutes}分です。"
WAIT_KEYS = "折り返しのお電話をご希望の方はアスタリスクを、留守番電話にご用件を残す方は9を押してください。"
WAIT_KEYS_WITHHELD = "留守番電話にご用件を残す方は9を押してください。"
CALLBACK_OK = (
    "折り返しのお電話を承りました。順番が来ましたら、相談員からおかけします。お電話を切ってお待ちください。"
)
CALLBACK_WITHHELD = "番号非通知のため、折り返しのお電話はできません。"
VOICEMAIL = (
    "{name}です。ただいま電話に出ることができません。{next}"
    "発信音のあとに、お名前、お電話番号、ご用件をお話しください。最後にシャープを押してください。"
)
VOICEMAIL_THANKS = "ご用件を承りました。相談員から折り返しご連絡いたします。"
GOODBYE = "お電話ありがとうございました。"
NO_RECORDING = "録音できませんでした。恐れ入りますが、時間をおいておかけ直しください。"


@dataclass(frozen=True)
class Voice:
    """How the IVR speaks: the TTS voice (``Polly.Mizuki``, ``Polly.Takumi``, ...)."""

    name: str = "Polly.Mizuki"


def _say(node: VoiceResponse | Gather, text: str, voice: Voice) -> None:
    node.say(text, voice=voice.name, language=LANGUAGE)


def greeting_menu(voice: Voice, *, menu_url: str, timeout_url: str) -> str:
    """Greeting with the recording and privacy notice, then the 1/2 menu (no input: ``timeout_url``)."""
    response = VoiceResponse()
    _say(response, GREETING + PRIVACY, voice)
    gather = Gather(num_digits=1, action=menu_url, method="POST", timeout=5, language=LANGUAGE)
    _say(gather, MENU, voice)
    response.append(gather)
    response.redirect(timeout_url, method="POST")
    return str(response)


def greeting_then(voice: Voice, url: str, center_name: str = "") -> str:
    """Greeting and privacy notice, then on to ``url`` (a center's own number: no menu)."""
    response = VoiceResponse()
    greeting = f"お電話ありがとうございます。{center_name}です。" if center_name else GREETING
    _say(response, greeting + PRIVACY, voice)
    response.redirect(url, method="POST")
    return str(response)


def say_then(voice: Voice, text: str, url: str) -> str:
    response = VoiceResponse()
    _say(response, text, voice)
    response.redirect(url, method="POST")
    return str(response)


def redirect(url: str) -> str:
    response = VoiceResponse()
    response.redirect(url, method="POST")
    return str(response)


def ask_postal(voice: Voice, *, action_url: str, timeout_url: str, again: bool = False) -> str:
    """``<Gather numDigits="7">`` for the 郵便番号 (asked again once after a bad code)."""
    response = VoiceResponse()
    gather = Gather(num_digits=7, action=action_url, method="POST", timeout=8, language=LANGUAGE)
    _say(gather, POSTAL_AGAIN if again else ASK_POSTAL, voice)
    response.append(gather)
    response.redirect(timeout_url, method="POST")
    return str(response)


def prefecture_menu(voice: Voice, *, choices: Sequence[str], action_url: str, timeout_url: str) -> str:
    """``choices[i]`` is read as "○○は i+1 を" (at most 9)."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action_url, method="POST", timeout=6, language=LANGUAGE)
    spoken = "".join(f"{name}は{i}を、" for i, name in enumerate(choices[:9], start=1))
    _say(gather, f"お住まいの地域を選択してください。{spoken}押してください。", voice)
    response.append(gather)
    response.redirect(timeout_url, method="POST")
    return str(response)


def enqueue(voice: Voice, *, center_name: str, queue: str, wait_url: str, action_url: str) -> str:
    """Announce the center, then ``<Enqueue>`` into its queue with our wait and exit URLs."""
    response = VoiceResponse()
    _say(response, CONNECTING.format(name=center_name), voice)
    response.enqueue(queue[:64], wait_url=wait_url, wait_url_method="POST", action=action_url, method="POST")
    return str(response)


def wait_music(
    voice: Voice, *, position: int, minutes: int | None, keys_url: str, callback_allowed: bool
) -> str:
    """What a waiting caller hears each round: position, estimated wait, the * / 9 choices, hold."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=keys_url, method="POST", timeout=3, finish_on_key="")
    text = HOLD
    if position > 0:
        text += POSITION.format(position=position)
    if minutes is not None:
        text += ESTIMATE.format(minutes=max(1, minutes))
    _say(gather, text + (WAIT_KEYS if callback_allowed else WAIT_KEYS_WITHHELD), voice)
    gather.pause(length=10)
    response.append(gather)
    return str(response)


def leave_queue(voice: Voice, text: str) -> str:
    """Say ``text`` and ``<Leave>`` the queue (the Enqueue action URL decides what follows)."""
    response = VoiceResponse()
    if text:
        _say(response, text, voice)
    response.leave()
    return str(response)


def voicemail(voice: Voice, *, center_name: str, next_opening: str, action_url: str, max_seconds: int) -> str:
    """The closed message and a ``<Record>`` (length limit, ``#`` ends it)."""
    response = VoiceResponse()
    _say(response, VOICEMAIL.format(name=center_name, next=next_opening), voice)
    response.record(
        action=action_url, method="POST", max_length=max_seconds, finish_on_key="#", play_beep=True, timeout=5
    )
    _say(response, NO_RECORDING, voice)
    response.hangup()
    return str(response)


def say_and_hang_up(voice: Voice, text: str) -> str:
    response = VoiceResponse()
    _say(response, text, voice)
    response.hangup()
    return str(response)


def conference(
    name: str,
    *,
    start_on_enter: bool,
    end_on_exit: bool,
    muted: bool = False,
    coach: str | None = None,
    status_url: str | None = None,
    voice: Voice | None = None,
    intro: str = "",
) -> str:
    """``<Dial><Conference>``: the caller, the counselor's softphone and a supervisor meet there."""
    response = VoiceResponse()
    if intro and voice is not None:
        _say(response, intro, voice)
    dial = Dial()
    dial.conference(
        name,
        start_conference_on_enter=start_on_enter,
        end_conference_on_exit=end_on_exit,
        muted=muted or None,
        coach=coach,
        beep=False,
        status_callback=status_url,
        status_callback_event="join leave end" if status_url else None,
    )
    response.append(dial)
    return str(response)


HOLD_MESSAGE = "担当者に確認しております。恐れ入りますが、このままお待ちください。"


def hold_music(voice: Voice, *, again_url: str) -> str:
    """What a caller on hold during a warm transfer hears (a conference participant's ``holdUrl``):
    a short message and a pause, again and again; no audio file from a CDN."""
    response = VoiceResponse()
    _say(response, HOLD_MESSAGE, voice)
    response.pause(length=20)
    response.redirect(again_url, method="POST")
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
