"""The email parser on the project's corpus (tests/fixtures/email, written by build.py) and garbage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.charset import decode, encode_iso2022jp_ms
from channels.email.parse import EmailTooLarge, ParsedEmail, parse_email
from tests.fixtures.email.build import fixtures

CORPUS = Path(__file__).parents[1] / "fixtures" / "email"
OWN = ("tokyo.demo.example",)


def parsed(name: str) -> ParsedEmail:
    return parse_email((CORPUS / name).read_bytes(), own_domains=OWN)


def assert_clean(p: ParsedEmail) -> None:
    for text in (p.subject, p.from_name, p.text, p.quoted, *(a.filename for a in p.attachments)):
        assert "\x1b" not in text and "=?" not in text and "\ufffd" not in text, text


def test_committed_eml_files_match_the_builder() -> None:
    for name, data in fixtures().items():
        assert (CORPUS / name).read_bytes() == data, f"{name}: run python -m tests.fixtures.email.build"


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        (
            "outlook_iso2022jp.eml",
            "①㈱の契約について",
            "株式会社テスト御中\n①契約書の件で相談です。\n№123 ㈱髙橋商事の﨑田様 ≒ 5万円",
        ),
        ("docomo_sjis_emoji.eml", "携帯から相談", "健康食品の定期購入をやめたい〓\n①解約できますか"),
        ("au_iso2022jp_folded.eml", "解約の電話がつながらない件", "電話が何度かけてもつながりません。"),
        ("softbank_xsjis.eml", "訪問販売", "ﾌﾄﾝを買わされました〓"),
        ("no_charset_raw_jis.eml", "昔のメーラー", "文字コード指定なし①"),
        ("no_charset_eucjp.eml", "euc", "ユーザー登録したら請求が来ました"),
        ("no_charset_cp932.eml", "sjis", "ユーザー登録したら請求が来ました①"),
        ("eucjp_nec.eml", "①の件", "①№番の商品"),
        ("utf8_base64_bad_padding.eml", "返品", "返品したいのですが、業者が応じません。"),
        ("qp_soft_breaks.eml", "エステ", "エステの契約を解除したいです。クーリング・オフはできますか？"),
        (
            "html_only_tracking.eml",
            "HTML",
            "請求書が届きました。\n\n詳しくはこちら (https://shop.example/info)です。\n\n<本当> & 確認",
        ),
        ("cr_only.eml", "CR only", "一行目\n二行目"),
        ("multipart_no_boundary.eml", "broken", "境界がありません"),
        ("unknown_charset.eml", "謎", "謎の文字コード"),
        ("unknown_cte.eml", "cte", "plain text anyway"),
        ("nested_rfc2231.eml", "契約書を送ります", "契約書を添付します。"),
    ],
)
def test_corpus_decodes_exactly(name: str, subject: str, text: str) -> None:
    p = parsed(name)
    assert p.subject == subject
    assert p.text == text
    assert not p.is_auto
    assert_clean(p)


def test_outlook_sender_name_and_ids() -> None:
    p = parsed("outlook_iso2022jp.eml")
    assert (p.from_name, p.from_address) == ("髙橋 花子", "hanako@example.jp")
    assert p.to == ("soudan@tokyo.demo.example",)
    assert p.message_id == "outlook-1@example.jp" and not p.message_id_generated
    assert p.date is not None and p.date.isoformat() == "2026-12-01T10:00:00+09:00"
    assert p.warnings == ()


def test_reply_is_threaded_and_quote_split_off_but_kept() -> None:
    p = parsed("reply_quoted.eml")
    assert p.normalized_subject == parsed("outlook_iso2022jp.eml").normalized_subject
    assert p.in_reply_to == "answer-1@tokyo.demo.example"
    assert p.thread_ids == ("answer-1@tokyo.demo.example", "outlook-1@example.jp")
    assert p.text == "ありがとうございます。"
    assert p.quoted.startswith("2026年12月1日 12:00 相談窓口さんは書きました：")
    assert "> ご相談ありがとうございます。" in p.full_text


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("docomo_sjis_emoji.eml", "carrier emoji"),
        ("utf8_base64_bad_padding.eml", "bad base64"),
        ("multipart_no_boundary.eml", "without a readable boundary"),
        ("unknown_charset.eml", "unknown charset 'x-unknown'"),
        ("unknown_cte.eml", "unknown transfer encoding 'x-gzip64'"),
    ],
)
def test_odd_mail_carries_a_warning(name: str, warning: str) -> None:
    assert any(warning in w for w in parsed(name).warnings), parsed(name).warnings


def test_html_only_drops_script_style_and_pixel() -> None:
    p = parsed("html_only_tracking.eml")
    assert p.html_only
    assert "alert" not in p.text and "color" not in p.text and "track.example" not in p.text
    assert "ニュース" not in p.text  # <title>


def test_attachments_safe_names_and_rfc2231() -> None:
    p = parsed("nested_rfc2231.eml")
    assert [(a.filename, a.content_type, a.data) for a in p.attachments] == [
        ("契約書①.pdf", "application/pdf", b"%PDF-1.4 fake"),
        ("passwd", "application/octet-stream", b"root:x"),
    ]
    assert "HTML version" not in p.text  # the plain alternative wins


def test_attachment_over_the_limit_is_dropped_with_a_warning() -> None:
    p = parse_email((CORPUS / "nested_rfc2231.eml").read_bytes(), max_attachment_bytes=8)
    assert [a.filename for a in p.attachments] == ["passwd"]
    assert any("契約書①.pdf" in w and "limit" in w for w in p.warnings)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply.eml", "Auto-Submitted: auto-replied"),
        ("mailing_list.eml", "Precedence: list"),
        ("dsn_report.eml", "delivery status notification"),
        ("bounce_japanese.eml", "sent by mailer-daemon"),
    ],
)
def test_automatic_mail_is_flagged(name: str, reason: str) -> None:
    p = parsed(name)
    assert p.is_auto and p.auto_reason == reason


def test_our_own_message_id_is_automatic() -> None:
    raw = b"From: a@b.jp\nMessage-ID: <x1@tokyo.demo.example>\nSubject: hi\n\nloop\n"
    assert parse_email(raw, own_domains=OWN).auto_reason == "our own Message-ID"
    assert not parse_email(raw).is_auto


def test_bounces_name_the_original_and_the_reason() -> None:
    dsn = parsed("dsn_report.eml").bounce
    assert dsn is not None and dsn.original_message_id == "answer-2@tokyo.demo.example"
    assert dsn.status == "5.1.1" and "User unknown" in dsn.reason
    jp = parsed("bounce_japanese.eml").bounce
    assert jp is not None and jp.original_message_id == "answer-1@tokyo.demo.example"
    assert "宛先不明" in jp.reason
    assert parsed("auto_reply.eml").bounce is None


def test_missing_message_id_gets_a_stable_content_hash() -> None:
    a, b = parsed("unknown_cte.eml"), parsed("unknown_cte.eml")
    assert a.message_id_generated and a.message_id == b.message_id
    assert a.message_id.endswith("@hash.madoguchi.invalid")


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Re: RE：Fwd: 相談", "相談"),
        ("ＲＥ：　相談", "相談"),
        ("転送: 返信: 相談", "相談"),
        ("[ml:123] Re: 相談", "相談"),
        ("【重要】FW: 相談", "相談"),
        ("Re[2]: Re:相談", "相談"),
        ("相談 Re: x", "相談 re: x"),
    ],
)
def test_reply_prefixes_stripped(subject: str, normalized: str) -> None:
    from channels.email.threading import normalize_subject

    assert normalize_subject(subject) == normalized


def test_encoded_words_split_mid_character_join() -> None:
    import base64

    u = "日本語".encode()
    raw = (
        b"From: a@b.jp\nSubject: =?utf-8?B?"
        + base64.b64encode(u[:4])
        + b"?=\n =?utf-8?B?"
        + base64.b64encode(u[4:])
        + b"?=\n\nx\n"
    )
    assert parse_email(raw).subject == "日本語"


def test_charset_layer_keeps_what_cp932_has() -> None:
    text = "①②⑳ⅠⅡ№㏍℡㈱㈲≒≡∫髙﨑德"
    assert decode(encode_iso2022jp_ms(text), "ISO-2022-JP") == (text, [])
    assert decode(text.encode("cp932"), "Shift_JIS") == (text, [])
    assert decode(text.encode("cp932"), "windows-31j") == (text, [])


def test_too_large_is_a_clear_refusal() -> None:
    with pytest.raises(EmailTooLarge, match="more than the limit of 100 bytes"):
        parse_email(b"x" * 101, max_bytes=100)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_parse_or_refuse(data: bytes) -> None:
    try:
        p = parse_email(data, max_bytes=2000)
    except EmailTooLarge:
        return
    assert "\x1b" not in p.text + p.subject


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(fixtures())), st.integers(0, 5000), st.binary(min_size=1, max_size=20))
def test_corrupted_corpus_never_crashes(name: str, at: int, junk: bytes) -> None:
    data = fixtures()[name]
    at %= len(data)
    p = parse_email(data[:at] + junk + data[at + len(junk) :])
    assert "\x1b" not in p.text + p.subject + p.from_name


def test_8bit_bytes_in_mime_headers_are_read_not_fatal() -> None:
    raw = (
        b"From: a@b.jp\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain; charset=\x82\xa0\nContent-Disposition: inline\xff\n"
        b"Content-Transfer-Encoding: 8bit\xfe\n\n" + "本文".encode("cp932") + b"\n--b--\n"
    )
    p = parse_email(raw)
    assert p.text == "本文"
