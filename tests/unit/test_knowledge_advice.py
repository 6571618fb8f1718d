"""Cooling-off deadlines (DOMAIN.md §4) and serious-accident screening (§3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from knowledge.accident import detect_serious_accident, kanji_to_int, treatment_days
from knowledge.cooling_off import UnknownSalesType, cooling_off_deadline, document_received_from_text
from tests.clock import Instant


@pytest.mark.parametrize(
    ("sales_type", "received", "last"),
    [
        ("訪問販売", date(2024, 5, 1), date(2024, 5, 8)),
        ("キャッチセールス", date(2024, 5, 1), date(2024, 5, 8)),
        ("電話勧誘販売", date(2024, 12, 28), date(2025, 1, 4)),
        ("エステ", date(2024, 2, 25), date(2024, 3, 3)),  # leap year
        ("訪問購入", date(2024, 5, 1), date(2024, 5, 8)),
        ("業務提供誘引販売取引", date(2024, 5, 1), date(2024, 5, 20)),
        ("連鎖販売取引", date(2024, 5, 1), date(2024, 5, 20)),
    ],
)
def test_last_day_counts_the_receipt_day_as_day_one(sales_type: str, received: date, last: date) -> None:
    r = cooling_off_deadline(sales_type, received)
    assert r.applicable and r.last_day == last
    assert "day 1" in r.rule
    assert any("発信主義" in n for n in r.notes) and any("defective" in n for n in r.notes)


def test_multi_level_runs_from_the_later_of_document_and_goods() -> None:
    r = cooling_off_deadline("マルチ", date(2024, 5, 1), goods_received=date(2024, 5, 10))
    assert r.start_day == date(2024, 5, 10) and r.last_day == date(2024, 5, 29)
    r = cooling_off_deadline("マルチ", date(2024, 5, 10), goods_received=date(2024, 5, 1))
    assert r.last_day == date(2024, 5, 29)


def test_mail_order_and_store_purchases_have_no_cooling_off() -> None:
    r = cooling_off_deadline("通信販売", None, goods_received=date(2024, 5, 1))
    assert not r.applicable and r.last_day == date(2024, 5, 8) and "返品特約" in r.rule
    assert not cooling_off_deadline("店舗購入", date(2024, 5, 1)).applicable


def test_no_document_means_the_period_has_not_started() -> None:
    r = cooling_off_deadline("訪問販売", None)
    assert r.applicable and r.last_day is None and "not started" in r.notes[0]


def test_days_left_and_expired_note() -> None:
    assert cooling_off_deadline("訪問販売", date(2024, 5, 1), today=date(2024, 5, 8)).days_left == 0
    late = cooling_off_deadline("訪問販売", date(2024, 5, 1), today=date(2024, 6, 1))
    assert late.days_left is not None and late.days_left < 0 and "passed" in late.notes[0]


def test_days_left_counts_from_the_jst_day_at_every_hour(jst_clock: Instant) -> None:
    today = jst_clock.day  # the 書面 received today (JST) is day 1 of 8: seven days left
    assert cooling_off_deadline("訪問販売", today).days_left == 7
    assert cooling_off_deadline("訪問販売", today - timedelta(days=7)).days_left == 0
    assert cooling_off_deadline("連鎖販売取引", today - timedelta(days=1)).days_left == 18
    assert cooling_off_deadline("通信販売", None, goods_received=today).days_left == 7


def test_unknown_sales_type_is_refused() -> None:
    with pytest.raises(UnknownSalesType, match="unknown sales type"):
        cooling_off_deadline("ねずみ講っぽい何か", date(2024, 5, 1))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("電気ストーブが原因で父が亡くなった", "死亡"),
        ("給湯器の不完全燃焼で一酸化炭素中毒になった", "一酸化炭素"),
        ("充電中のバッテリーから出火した", "火災"),
        ("全治三十日のけが", "30日"),
        ("全治１か月と診断された", "30日"),
        ("治療に6週間かかる", "30日"),
        ("施術の後遺症が残った", "後遺障害"),
    ],
)
def test_serious_accident_signals(text: str, expect: str) -> None:
    assert any(expect in r for r in detect_serious_accident(text)), detect_serious_accident(text)


@pytest.mark.parametrize(
    "text", ["死亡保険を解約したい", "全治2週間のけが", "火災にはならなかった", "定期購入の解約", ""]
)
def test_no_false_alarm_on_ordinary_consultations(text: str) -> None:
    assert detect_serious_accident(text) == []


def test_kanji_numbers() -> None:
    assert [kanji_to_int(s) for s in ("三十", "二十五", "百", "10", "一〇〇", "x")] == [
        30,
        25,
        100,
        10,
        100,
        None,
    ]
    assert treatment_days("入院二か月、その後通院3週間") == 60


@pytest.mark.parametrize(
    ("text", "received"),
    [
        ("契約書は11月28日にもらいました", date(2026, 11, 28)),
        ("契約書は１１月２８日にもらいました。解約したいです", date(2026, 11, 28)),
        ("書面は先週の月曜に受け取った", date(2026, 11, 23)),  # message day: Tue 2026-12-01
        ("昨日、申込書の控えを渡されました", date(2026, 11, 30)),
        ("2025年12月3日に契約書をもらった", date(2025, 12, 3)),
        ("契約書はまだもらっていません", None),
        ("書類は12月5日にもらう予定です", None),
        ("工事は11月20日に終わりました", None),  # a date, but not the 書面's
        ("", None),
    ],
)
def test_document_receipt_day_is_read_from_the_message(text: str, received: date | None) -> None:
    assert document_received_from_text(text, date(2026, 12, 1)) == received


def test_stated_december_date_in_january_is_last_year() -> None:
    assert document_received_from_text("契約書は12月28日にもらった", date(2027, 1, 5)) == date(2026, 12, 28)
