"""Trends without a database: the spike test, its false-alarm rate, small cells and k-anonymity."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, timedelta

import pytest

from crm.errors import BadRequest
from knowledge.trends.anonymized import QUASI, amount_band, anonymized_rows
from knowledge.trends.records import TrendRecord
from knowledge.trends.spikes import ALPHA, binom_sf, check_week, detect_spikes
from knowledge.trends.stats import cell, count_series, period_start, period_starts, protect_table

MONDAY = date(2026, 9, 21)
WEEKS = [MONDAY - timedelta(weeks=n) for n in range(15, -1, -1)]


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (small λ)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_binomial_tail_matches_the_direct_sum() -> None:
    for n, p, x in [(10, 0.1, 3), (40, 1 / 9, 12), (7, 0.5, 7), (200, 0.05, 25)]:
        direct = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x, n + 1))
        assert binom_sf(x, n, p) == pytest.approx(direct, rel=1e-9)
    assert binom_sf(0, 5, 0.3) == 1.0 and binom_sf(6, 5, 0.3) == 0.0


def test_a_sudden_wave_is_a_spike_and_a_steady_series_is_not() -> None:
    steady = [2, 1, 3, 2, 2, 1, 2, 3, 2, 2, 1, 2, 3, 2, 2, 2]
    wave = steady[:-1] + [14]
    assert detect_spikes(WEEKS, [("健康食品", steady)]) == []
    [spike] = detect_spikes(WEEKS, [("健康食品", wave), ("化粧品", steady)])
    assert (spike.value, spike.week, spike.count) == ("健康食品", MONDAY, 14)
    assert spike.expected == pytest.approx(2.0, abs=0.3) and spike.p_value < ALPHA


def test_small_or_short_series_never_spike() -> None:
    assert not check_week([0, 0, 0, 0, 0, 0, 0, 0, 4], 8)[0]  # 4 cases: below the minimum count
    assert not check_week([0, 0, 9], 2)[0]  # two weeks of history are not a baseline
    assert check_week([0, 0, 0, 0, 0, 0, 0, 0, 6], 8)[0]  # from nothing to 6 in a week


def test_false_alarm_rate_on_generated_series_without_a_spike_stays_below_alpha() -> None:
    rng = random.Random(20261201)
    tests = alarms = 0
    for lam in (0.5, 2, 5, 12, 30):
        for _ in range(300):
            counts = [poisson(rng, lam) for _ in range(16)]
            for t in range(8, 16):
                tests += 1
                alarms += check_week(counts, t)[0]
    assert tests == 12_000
    assert alarms / tests < ALPHA  # the stated rate (bench/trends_spikes.py measures it in more detail)


def test_small_cells_are_suppressed_but_zero_is_shown() -> None:
    assert cell(0).count == 0 and cell(1).count is None and cell(2).suppressed
    assert cell(3).count == 3


def test_a_total_that_would_give_a_small_cell_back_is_hidden_too() -> None:
    # weeks: 0, 1; values: 健康食品 [5, 9], 化粧品 [4, 1], 電気 [0, 2]
    cells, totals, value_totals = protect_table([[5, 9], [4, 1], [0, 2]], [9, 12])
    assert cells == [[5, 9], [4, None], [0, None]]
    assert totals == [9, 12]  # week 1 hides two cells: 12 − 9 = 3 does not tell 1 from 2
    assert value_totals == [14, None, None]  # 5 = 化粧品 total − 4 would give week 1 back
    _, totals, _ = protect_table([[9], [1]], [10])
    assert totals == [None]  # 10 − 9 = the one


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    assert period_start(date(2026, 9, 27), "week") == MONDAY  # a Sunday
    assert period_starts(date(2026, 1, 31), date(2026, 3, 1), "month") == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert period_starts(MONDAY, MONDAY + timedelta(days=2), "day") == [
        MONDAY + timedelta(days=n) for n in range(3)
    ]
    with pytest.raises(BadRequest, match="day, week or month"):
        period_start(MONDAY, "fortnight")
    with pytest.raises(BadRequest, match="by week or month"):
        period_starts(date(2025, 1, 1), date(2026, 1, 2), "day")


def _record(n: int, day: date, age: str = "70歳以上", gender: str = "女性", job: str = "無職") -> TrendRecord:
    return TrendRecord(
        ticket_id=n,
        day=day,
        center="tokyo",
        prefecture="東京都",
        channel="電話",
        category="健康食品",
        sales_method="通信販売",
        age_band=age,
        keywords=("定期購入", "解約"),
        serious_accident=False,
        gender=gender,
        occupation=job,
    )


def test_keyword_counts_count_a_record_under_each_keyword() -> None:
    records = [_record(1, MONDAY), _record(2, MONDAY + timedelta(days=1))]
    starts, series = count_series(
        records, dimension="keyword", period="week", date_from=MONDAY, date_to=MONDAY
    )
    assert starts == [MONDAY] and {s.value: s.counts for s in series} == {"定期購入": [2], "解約": [2]}
    with pytest.raises(BadRequest, match="unknown dimension"):
        count_series(records, dimension="name", period="week", date_from=MONDAY, date_to=MONDAY)


def test_every_exported_combination_of_quasi_identifiers_is_shared_by_k_rows() -> None:
    rng = random.Random(7)
    ages, genders, jobs = ["20歳代", "70歳以上", "80歳以上"], ["女性", "男性"], ["無職", "学生", "給与生活者"]
    records = [
        _record(
            n,
            MONDAY + timedelta(days=rng.randrange(60)),
            rng.choice(ages),
            rng.choice(genders),
            rng.choice(jobs),
        )
        for n in range(300)
    ]
    records.append(_record(999, date(2025, 1, 6), "80歳以上", "男性", "学生"))  # alone in its month
    rows, left_out = anonymized_rows(records)
    groups = Counter(tuple(r[q] for q in QUASI) for r in rows)
    assert min(groups.values()) >= 3
    assert left_out >= 1 and len(rows) + left_out == len(records)
    assert any(r["職業"] == "*" for r in rows)  # some rows needed generalizing
    assert any(r["職業"] != "*" for r in rows)  # not all: common combinations keep their detail


def test_amounts_leave_only_as_bands() -> None:
    assert [amount_band(v) for v in (None, 0, 9_999, 10_000, 499_999, 2_300_000)] == [
        "不明",
        "0円",
        "1万円未満",
        "1万〜10万円未満",
        "10万〜50万円未満",
        "100万円以上",
    ]


def test_business_names_are_counted_as_one_business_and_never_carry_a_person() -> None:
    from knowledge.trends.records import OTHER, UNKNOWN, business_label

    same = {"株式会社ミライホーム", "(株)ミライホーム", "ミライホーム ", "ﾐﾗｲﾎｰﾑ株式会社", "㈱ミライホーム"}
    assert {business_label(n) for n in same} == {"ミライホーム"}
    assert business_label(None) == business_label("  ") == business_label("株式会社") == UNKNOWN
    assert business_label("山田太郎 090-1234-5678") == OTHER  # a consumer's details typed into the field
