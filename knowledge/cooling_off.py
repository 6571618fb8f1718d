"""Cooling-off deadline calculator (特定商取引法), shown to the counselor as a suggestion, never decided.

Rules (shared/DOMAIN.md §4): the period counts the day the legally complete 書面 was received as
day 1. 訪問販売 / 電話勧誘販売 / 特定継続的役務提供 / 訪問購入: 8 days; 連鎖販売取引: 20 days from
the later of the 書面 and the goods; 業務提供誘引販売取引: 20 days. 通信販売 has no cooling-off
(返品 within 8 days of delivery unless a 返品特約 is displayed); 店舗購入 has none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from config.clock import today_jst


class SalesType(StrEnum):
    HOME_VISIT = "訪問販売"
    PHONE = "電話勧誘販売"
    CONTINUOUS_SERVICE = "特定継続的役務提供"
    VISIT_PURCHASE = "訪問購入"
    MULTI_LEVEL = "連鎖販売取引"
    BUSINESS_OPPORTUNITY = "業務提供誘引販売取引"
    MAIL_ORDER = "通信販売"
    STORE = "店舗購入"


ALIASES: dict[str, SalesType] = {
    "キャッチセールス": SalesType.HOME_VISIT,
    "アポイントメントセールス": SalesType.HOME_VISIT,
    "家庭訪販": SalesType.HOME_VISIT,
    "SF商法": SalesType.HOME_VISIT,
    "電話勧誘": SalesType.PHONE,
    "エステ": SalesType.CONTINUOUS_SERVICE,
    "美容医療": SalesType.CONTINUOUS_SERVICE,
    "語学教室": SalesType.CONTINUOUS_SERVICE,
    "家庭教師": SalesType.CONTINUOUS_SERVICE,
    "学習塾": SalesType.CONTINUOUS_SERVICE,
    "結婚相手紹介": SalesType.CONTINUOUS_SERVICE,
    "パソコン教室": SalesType.CONTINUOUS_SERVICE,
    "マルチ": SalesType.MULTI_LEVEL,
    "マルチ・マルチまがい取引": SalesType.MULTI_LEVEL,
    "マルチ取引": SalesType.MULTI_LEVEL,
    "連鎖販売": SalesType.MULTI_LEVEL,
    "内職商法": SalesType.BUSINESS_OPPORTUNITY,
    "モニター商法": SalesType.BUSINESS_OPPORTUNITY,
    "業務提供誘引販売": SalesType.BUSINESS_OPPORTUNITY,
    "インターネット通販": SalesType.MAIL_ORDER,
    "ネット通販": SalesType.MAIL_ORDER,
    "通販": SalesType.MAIL_ORDER,
}

# type -> (days, article)
PERIODS: dict[SalesType, tuple[int, str]] = {
    SalesType.HOME_VISIT: (8, "特定商取引法 第9条"),
    SalesType.PHONE: (8, "特定商取引法 第24条"),
    SalesType.CONTINUOUS_SERVICE: (8, "特定商取引法 第48条"),
    SalesType.VISIT_PURCHASE: (8, "特定商取引法 第58条の14"),
    SalesType.MULTI_LEVEL: (20, "特定商取引法 第40条"),
    SalesType.BUSINESS_OPPORTUNITY: (20, "特定商取引法 第58条"),
}

COMMON_NOTES = (
    "発信主義: the cancellation takes effect when it is SENT (postmark / sent mail), even if it arrives after the last day.",
    "The period runs only from a legally complete 書面; if the 書面 was never given or is defective "
    "(missing required items), cooling-off is still possible after this date.",
    "If the seller obstructed cooling-off (不実告知, 威迫), the period restarts after a new 書面 is given.",
    "Since 2022-06-01 the notice may also be sent electronically (email, form, FAX); keep a copy or screenshot. "
    "For a credit contract, notify the credit company as well.",
)


class UnknownSalesType(ValueError):
    pass


@dataclass(frozen=True)
class CoolingOff:
    """The suggestion: whether cooling-off applies, the last day, and the rule used."""

    sales_type: str
    applicable: bool
    rule: str
    last_day: date | None = None
    days: int | None = None
    start_day: date | None = None
    days_left: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def parse_sales_type(value: str) -> SalesType:
    """A sales type from its Japanese name or a common alias (キャッチセールス → 訪問販売)."""
    value = value.strip()
    try:
        return SalesType(value)
    except ValueError:
        pass
    if value in ALIASES:
        return ALIASES[value]
    known = ", ".join([t.value for t in SalesType] + list(ALIASES))
    raise UnknownSalesType(f"unknown sales type {value!r}; use one of: {known}")


def cooling_off_deadline(
    sales_type: str | SalesType,
    document_received: date | None,
    *,
    goods_received: date | None = None,
    today: date | None = None,
) -> CoolingOff:
    """Compute the last day of the cooling-off period (day 1 = the day the 書面 was received).

    ``days_left`` counts from ``today`` (default: today in JST, never the server's or the UTC date).
    """
    today = today or today_jst()
    st = sales_type if isinstance(sales_type, SalesType) else parse_sales_type(sales_type)
    if st == SalesType.MAIL_ORDER:
        return _mail_order(goods_received, today)
    if st == SalesType.STORE:
        return CoolingOff(
            st.value,
            False,
            "店舗購入: no statutory cooling-off (check the contract, "
            "消費者契約法 cancellation grounds, or a voluntary return policy).",
        )
    days, article = PERIODS[st]
    start = document_received
    rule = f"{st.value}: {days} days counting the day the legal 書面 was received as day 1 ({article})"
    if st == SalesType.MULTI_LEVEL:
        rule = f"{st.value}: {days} days from the LATER of the 書面 and the goods receipt, that day = day 1 ({article})"
        if goods_received is not None and (start is None or goods_received > start):
            start = goods_received if document_received is not None else None
    if start is None:
        return CoolingOff(
            st.value,
            True,
            rule,
            days=days,
            notes=(
                "The 書面 has not been received: the period has not started, cooling-off is still possible.",
                *COMMON_NOTES,
            ),
        )
    last = start + timedelta(days=days - 1)
    left = (last - today).days
    notes: tuple[str, ...] = COMMON_NOTES
    if left < 0:
        notes = (
            "The period based on this date has passed; check whether the 書面 was complete "
            "(defective 書面 ⇒ still cancellable) or other grounds apply.",
            *COMMON_NOTES,
        )
    return CoolingOff(
        st.value, True, rule, last_day=last, days=days, start_day=start, days_left=left, notes=notes
    )


def _mail_order(goods_received: date | None, today: date) -> CoolingOff:
    rule = (
        "通信販売: no cooling-off. 返品 is possible within 8 days of delivery (delivery day = day 1) unless "
        "the seller displayed a 返品特約; the buyer pays return shipping (特定商取引法 第15条の3)."
    )
    if goods_received is None:
        return CoolingOff(SalesType.MAIL_ORDER.value, False, rule, days=8)
    last = goods_received + timedelta(days=7)
    left = (last - today).days
    return CoolingOff(
        SalesType.MAIL_ORDER.value,
        False,
        rule,
        last_day=last,
        days=8,
        start_day=goods_received,
        days_left=left,
        notes=("Check the 返品特約 shown on the order page (screenshot it).",),
    )


# --- the 書面's receipt date stated in a consumer's message ---------------------------------------

_DOCUMENT = re.compile(
    r"書面|契約書|申込書|申し込み書|申込みの控え|控え|書類|説明書|クーリング・?オフの(?:紙|用紙)"
)
_RECEIVED = re.compile(r"受け?取|もら|貰|渡さ|渡して|届い|届き|交付")
_WEEKDAYS = "月火水木金土日"
_YMD = re.compile(r"(?:(\d{4})[年/.-])?(\d{1,2})[月/](\d{1,2})日?")
_NOT_YET = re.compile(r"予定|これから|まだ|って(?:い)?ない|て(?:い)?ない|ません|なかった|来週|明日")
_SENTENCE = re.compile(r"[^。！？!?\n]+")


def _weekday_date(prefix: str, weekday: int, message_day: date) -> date:
    monday = message_day - timedelta(days=message_day.weekday())
    if prefix == "先週":
        return monday - timedelta(days=7) + timedelta(days=weekday)
    if prefix == "先々週":
        return monday - timedelta(days=14) + timedelta(days=weekday)
    if prefix == "今週":
        return monday + timedelta(days=weekday)
    back = (message_day.weekday() - weekday) % 7  # bare "月曜に": the latest such day, today included
    return message_day - timedelta(days=back)


def _date_in(sentence: str, message_day: date) -> date | None:
    m = _YMD.search(sentence)
    if m:
        year = int(m.group(1)) if m.group(1) else message_day.year
        try:
            found = date(year, int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        if not m.group(1) and (found - message_day).days > 60:  # "11月28日" said in January
            found = found.replace(year=year - 1)
        return found if found <= message_day else None
    m = re.search(r"(先々週|先週|今週)?の?([月火水木金土日])曜", sentence)
    if m:
        return _weekday_date(m.group(1) or "", _WEEKDAYS.index(m.group(2)), message_day)
    m = re.search(r"(\d{1,2})日前", sentence)
    if m:
        return message_day - timedelta(days=int(m.group(1)))
    m = re.search(r"先月の?(\d{1,2})日", sentence)
    if m:
        first = message_day.replace(day=1) - timedelta(days=1)
        try:
            return first.replace(day=int(m.group(1)))
        except ValueError:
            return None
    for word, back in (("一昨日", 2), ("おととい", 2), ("昨日", 1), ("きのう", 1), ("今日", 0), ("本日", 0)):
        if word in sentence:
            return message_day - timedelta(days=back)
    return None


def document_received_from_text(text: str, message_day: date) -> date | None:
    """The day the 書面 was received, when a sentence of ``text`` says so (「契約書は11月28日にもらいました」,
    「書面は先週の月曜に受け取った」), relative dates resolved against ``message_day`` (the JST date the
    message was sent); None when no sentence both names the 書面 and its receipt with a date."""
    norm = unicodedata.normalize("NFKC", text)
    for sentence in _SENTENCE.findall(norm):
        if _DOCUMENT.search(sentence) and _RECEIVED.search(sentence) and not _NOT_YET.search(sentence):
            found = _date_in(sentence, message_day)
            if found is not None:
                return found
    return None
