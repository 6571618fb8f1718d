"""Yen amounts written the ways people write them: 「12万円」「120,000円」「十二万円」「7万8千円」「５千円」.

``find_amounts(text)`` returns every amount with its span; the text should be NFKC-normalized first
(full-width digits and commas become ASCII). A number counts as an amount only when it ends in 円 or
carries a 万/億 unit (「30万払え」); 「2回目」「3ヶ月」「一人暮らし」 are not amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = (("億", 10**8), ("万", 10**4))
_CHARS = "0-9,〇零一二三四五六七八九十百千万億"
AMOUNT = re.compile(rf"(?<![0-9,.])([0-9〇零一二三四五六七八九十百千][{_CHARS}]*)(円)?")
MAX_YEN = 10**12  # 1 兆円: anything above is a typo or not money


@dataclass(frozen=True)
class Amount:
    """An amount in yen and where it was written (``start``/``end`` in the given text)."""

    yen: int
    text: str
    start: int
    end: int


def _small(part: str) -> int | None:
    """A number below 10,000 (or plain arabic digits of any size); None when it is not a number."""
    if part == "":
        return 0
    if part.isdigit():
        return int(part)
    total, current = 0, None
    for ch in part:
        if ch.isdigit():
            current = (current or 0) * 10 + int(ch)
        elif ch in KANJI_DIGITS:
            current = (current or 0) * 10 + KANJI_DIGITS[ch]
        elif ch in SMALL_UNITS:
            total += (1 if current is None else current) * SMALL_UNITS[ch]
            current = None
        else:
            return None
    return total + (current or 0)


def parse_yen(text: str) -> int | None:
    """The value of a written number (「十二万」→120000, 「7万8千」→78000, 「120,000」→120000)."""
    rest = text.replace(",", "").removesuffix("円")
    if not rest:
        return None
    total = 0
    for unit, mult in BIG_UNITS:
        if unit in rest:
            head, rest = rest.split(unit, 1)
            value = _small(head or "一")
            if value is None:
                return None
            total += value * mult
    tail = _small(rest)
    if tail is None:
        return None
    return total + tail


def find_amounts(text: str) -> list[Amount]:
    """Every yen amount in NFKC text, in order."""
    out: list[Amount] = []
    for m in AMOUNT.finditer(text):
        body = m.group(1).rstrip(",")
        if len(body) > 20:  # 「1111…円」: a runaway digit string is not a sum anyone paid
            continue
        if not m.group(2) and not any(u in body for u, _ in BIG_UNITS):
            continue
        if not any(ch.isdigit() for ch in body) and len(body) == 1 and body not in "千":
            continue  # a lone 一/十 in ordinary words
        yen = parse_yen(body)
        if yen is None or yen <= 0 or yen > MAX_YEN:
            continue
        end = m.start(1) + len(body) + (1 if m.group(2) else 0)
        out.append(Amount(yen, text[m.start(1) : end], m.start(1), end))
    return out
