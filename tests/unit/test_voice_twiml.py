"""Each IVR branch's TwiML, parsed as XML: what the caller hears and where the keys go."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from channels.voice import twiml

VOICE = twiml.Voice("Polly.Takumi")


def parse(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


def test_the_greeting_states_recording_and_privacy_then_offers_the_menu() -> None:
    root = parse(twiml.greeting_menu(VOICE, menu_url="https://x/menu", timeout_url="https://x/default"))
    say = root.find("Say")
    assert say is not None and "録音" in (say.text or "") and "個人情報" in (say.text or "")
    assert say.get("language") == "ja-JP" and say.get("voice") == "Polly.Takumi"
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1" and gather.get("action") == "https://x/menu"
    assert "郵便番号" in (gather.findtext("Say") or "")
    # no input: the number's default center, never silence
    assert root.findtext("Redirect") == "https://x/default"


def test_the_postal_prompt_gathers_seven_digits_and_says_so_again_after_a_bad_code() -> None:
    first = parse(twiml.ask_postal(VOICE, action_url="https://x/postal?attempt=1", timeout_url="https://x/d"))
    gather = first.find("Gather")
    assert gather is not None and gather.get("numDigits") == "7"
    assert "7桁" in (gather.findtext("Say") or "") and "市外局番ではなく" in (gather.findtext("Say") or "")
    again = parse(
        twiml.ask_postal(
            VOICE, action_url="https://x/postal?attempt=2", timeout_url="https://x/d", again=True
        )
    )
    assert "もう一度" in (again.find("Gather").findtext("Say") or "")  # type: ignore[union-attr]
    assert again.find("Gather").get("action").endswith("attempt=2")  # type: ignore[union-attr]


def test_enqueue_names_the_center_and_our_wait_and_exit_urls() -> None:
    root = parse(
        twiml.enqueue(
            VOICE,
            center_name="世田谷区消費生活センター",
            queue="tokyo-setagaya",
            wait_url="https://x/wait",
            action_url="https://x/exit",
        )
    )
    assert "世田谷区消費生活センター" in (root.findtext("Say") or "")
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "tokyo-setagaya"
    assert enqueue.get("waitUrl") == "https://x/wait" and enqueue.get("action") == "https://x/exit"


def test_the_wait_announces_position_and_estimate_and_offers_callback() -> None:
    root = parse(
        twiml.wait_music(VOICE, position=3, minutes=4, keys_url="https://x/keys", callback_allowed=True)
    )
    text = root.find("Gather").findtext("Say") or ""  # type: ignore[union-attr]
    assert "3番目" in text and "4分" in text and "アスタリスク" in text and "9" in text


def test_a_withheld_caller_is_not_offered_a_callback_and_an_unknown_estimate_is_not_spoken() -> None:
    root = parse(
        twiml.wait_music(VOICE, position=1, minutes=None, keys_url="https://x/keys", callback_allowed=False)
    )
    text = root.find("Gather").findtext("Say") or ""  # type: ignore[union-attr]
    assert "アスタリスク" not in text and "待ち時間" not in text and "1番目" in text


def test_voicemail_records_with_a_length_limit_and_names_the_next_opening() -> None:
    root = parse(
        twiml.voicemail(
            VOICE,
            center_name="八王子市消費生活センター",
            next_opening="次の受付開始は1月5日 09:00です。",
            action_url="https://x/rec",
            max_seconds=90,
        )
    )
    assert "1月5日 09:00" in (root.findtext("Say") or "")
    record = root.find("Record")
    assert record is not None and record.get("maxLength") == "90" and record.get("action") == "https://x/rec"
    assert record.get("finishOnKey") == "#"


def test_callback_leaves_the_queue_after_saying_so() -> None:
    root = parse(twiml.leave_queue(VOICE, twiml.CALLBACK_OK))
    assert "折り返し" in (root.findtext("Say") or "")
    assert root.find("Leave") is not None


def test_a_supervisor_listens_muted_or_whispers_as_a_coach() -> None:
    listen = parse(twiml.conference("ticket-7", start_on_enter=False, end_on_exit=False, muted=True)).find(
        "Dial/Conference"
    )
    assert listen is not None and listen.text == "ticket-7" and listen.get("muted") == "true"
    assert listen.get("endConferenceOnExit") == "false"
    whisper = parse(twiml.conference("ticket-7", start_on_enter=False, end_on_exit=False, coach="CA9")).find(
        "Dial/Conference"
    )
    assert whisper is not None and whisper.get("coach") == "CA9" and whisper.get("muted") is None
