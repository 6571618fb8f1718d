"""The record prefill (knowledge/record_fill): amounts, dates resolved in JST, labels, and the words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from knowledge.record_fill import ConversationMessage, prefill_record
from knowledge.record_fill.dates import find_dates
from knowledge.record_fill.numbers import find_amounts, parse_yen

# 2026-11-12 20:05 JST is 11:05 UTC: the JST day, not the UTC day, resolves 昨日/先月
AT = datetime(2026, 11, 12, 11, 5, tzinfo=UTC)
LATE = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 2026-12-01 00:30 JST: already December in Japan


def consumer(*texts: str, at: datetime = AT) -> list[ConversationMessage]:
    return [ConversationMessage("consumer", t, at, f"m{i}") for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("written", "yen"),
    [("12万円", 120_000), ("120,000円", 120_000), ("十二万円", 120_000), ("７万８千円", 78_000),
     ("四十五万円", 450_000), ("５千円", 5_000), ("１２０，０００円", 120_000), ("1万5000円", 15_000)],
)  # fmt: skip
def test_amounts_written_every_way_are_the_same_yen(written: str, yen: int) -> None:
    import unicodedata

    found = find_amounts(unicodedata.normalize("NFKC", written))
    assert [a.yen for a in found] == [yen]


@pytest.mark.parametrize("text", ["2回目から", "3ヶ月だけ", "一人暮らし", "十分です", "万が一", ""])
def test_numbers_that_are_not_money_are_not_amounts(text: str) -> None:
    assert find_amounts(text) == []


def test_parse_yen_refuses_what_is_not_a_number() -> None:
    assert parse_yen("万円") == 10_000 and parse_yen("abc") is None and parse_yen("") is None


def test_contract_and_paid_amounts_are_told_apart_with_their_words() -> None:
    got = prefill_record(consumer("金額は85万円で、手付金として10万円はもう払ってます。"))
    assert got["contract_amount"].value == 850_000 and got["paid_amount"].value == 100_000
    assert "85万円" in got["contract_amount"].source and got["paid_amount"].ref == "m0"
    assert 0 < got["paid_amount"].confidence <= 1


def test_nothing_paid_yet_is_zero_and_an_estimate_is_not_the_price() -> None:
    got = prefill_record(
        consumer("見積もりは8万円でした", "化粧品セット35万円のローンを組んだ。まだ1円も払ってないです")
    )
    assert got["contract_amount"].value == 350_000 and got["paid_amount"].value == 0


def test_monthly_fees_are_not_the_contract_amount() -> None:
    got = prefill_record(consumer("説明は月4000円、請求は月7500円でした"))
    assert "contract_amount" not in got


def test_relative_dates_resolve_against_the_jst_day_of_the_message() -> None:
    got = prefill_record(
        consumer("先月の15日に家に業者が来て屋根工事の契約をしました", "契約書はその日にもらいました")
    )
    assert got["contract_date"].value == "2026-10-15"
    assert got["document_received"].value is True and got["document_date"].value == "2026-10-15"
    late = prefill_record(consumer("昨日訪問してきた新聞屋と契約しちゃった", at=LATE))
    assert late["contract_date"].value == "2026-11-30"  # JST 12-01 minus one day, not UTC 11-30 minus one


def test_only_the_month_is_kept_when_only_the_month_is_said() -> None:
    got = prefill_record(consumer("去年の12月に20回コース28万円を契約しました"))
    assert got["contract_date"].value == "2025-12" and got["contract_date"].confidence < 0.85


def test_find_dates_drops_future_days_and_weekday_words() -> None:
    today = date(2026, 11, 12)  # a Thursday
    assert [d.value for d in find_dates("先週の土曜日", today)] == ["2026-11-07"]
    assert find_dates("12月25日に", today) == []  # after the message: not what happened
    assert [d.value for d in find_dates("2週間前", today)] == ["2026-10-29"]


def test_a_phone_memo_gives_facts_before_the_arrow_and_the_outcome_after() -> None:
    memo = ConversationMessage(
        "note",
        "70代女性 無職。10/20に電話で勧誘され布団セット38万円を契約。書面は10/22に届いた。業者：(株)ドリーム寝具。→クーリングオフの通知方法を助言。",
        AT,
    )
    got = prefill_record([memo])
    values = {k: v.value for k, v in got.items()}
    assert values["age_band"] == "70歳以上" and values["occupation"] == "無職"
    assert values["contract_date"] == "2026-10-20" and values["document_date"] == "2026-10-22"
    assert values["sales_method"] == "電話勧誘販売" and values["product_category"] == "寝具類"
    assert values["business_name"] == "株式会社ドリーム寝具" and values["outcome"] == "助言(自主交渉)"


def test_no_document_is_recorded_as_not_received() -> None:
    got = prefill_record(consumer("書類みたいなのは何ももらってないです"))
    assert got["document_received"].value is False and "document_date" not in got


def test_the_counselors_words_never_become_consumer_facts() -> None:
    msgs = [
        ConversationMessage(
            "counselor", "10万円払ってしまった場合でも、書面を受け取っていなければ大丈夫です", AT
        )
    ]
    got = prefill_record(msgs)
    assert not {"paid_amount", "document_received", "contract_amount"} & set(got)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "\x00\x01\x02",
        "\ud800壊れた",
        "🙂" * 5000,
        "万" * 10_000,
        "1" * 5000 + "円",
        "<script>alert(1)</script>",
    ],
)
def test_garbage_oversized_and_misencoded_text_gives_no_crash_and_no_invention(garbage: str) -> None:
    got = prefill_record(consumer(garbage))
    amount = got.get("contract_amount")
    assert amount is None or amount.value <= 10**12  # an absurd number is not an amount
    assert "contract_date" not in got and "business_name" not in got
