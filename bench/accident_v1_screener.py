"""The keyword screener before issue 15 (knowledge/accident.py as it was), kept only as the bench baseline."""

from __future__ import annotations

import re

from knowledge.text import normalize

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
    "両": 2,
}
KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"[0-9〇零一二三四五六七八九十百千両]+"
NEGATION = re.compile(r"^[^。、\n]{0,6}?(?:ない|なかった|ません|せず|なし|無し|ではない|には至ら)")

KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "死亡 (death)",
        re.compile(
            r"死亡(?!保険|保障|時|事故保険|退職)|亡くな[っりる]|死んで?[しだ]|死去|他界|命を落と|心肺停止"
        ),
    ),
    ("一酸化炭素中毒 (CO poisoning)", re.compile(r"一酸化炭素|CO中毒|ガス中毒")),
    ("火災 (fire)", re.compile(r"火災|火事|出火|発火|炎上|燃え(?:た|て|だ|出)|焼損|焦げ(?:た|て)|煙が出")),
    ("後遺障害 (lasting disability)", re.compile(r"後遺障害|後遺症|障害が残|失明|麻痺が残")),
    ("意識不明・窒息 (loss of consciousness / suffocation)", re.compile(r"意識不明|意識を失|窒息|心停止")),
]
DURATION = re.compile(
    rf"(?:全治|治療|加療|入院|通院|療養|安静|完治まで|治るまで)[^。\n]{{0,12}}?({NUM})\s*(日|週間|週|か月|ヵ月|ヶ月|カ月|ケ月|箇月|月)"
    rf"|({NUM})\s*(日|週間|週|か月|ヵ月|ヶ月|カ月|ケ月|箇月)[^。\n]{{0,6}}?(?:の|も|ほど|くらい|間)?[^。\n]{{0,4}}?(?:治療|加療|入院|通院|療養|安静|けが|怪我|重傷)"
)


def kanji_to_int(s: str) -> int | None:
    """Arabic or kanji numerals (三十, 二十五, 一〇〇) to an int; None when it is not a number."""
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in KANJI_DIGITS:
            current = current * 10 + KANJI_DIGITS[ch] if current else KANJI_DIGITS[ch]
        elif ch in KANJI_UNITS:
            total += (current or 1) * KANJI_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def treatment_days(text: str) -> int | None:
    """The longest treatment period mentioned (in days), or None."""
    best: int | None = None
    for m in DURATION.finditer(normalize(text)):
        num, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        n = kanji_to_int(num)
        if n is None:
            continue
        days = n * 7 if unit.startswith("週") else n * 30 if "月" in unit else n
        best = days if best is None else max(best, days)
    return best


def detect_serious_accident(text: str) -> list[str]:
    """Reasons to suspect a 重大事故等 in ``text`` (a supervisor confirms; nothing is decided here)."""
    if not text:
        return []
    norm = normalize(text)
    reasons: list[str] = []
    for label, pattern in KEYWORDS:
        for m in pattern.finditer(norm):
            if not NEGATION.search(norm[m.end() : m.end() + 16]):
                reasons.append(f"{label}: 「{m.group()}」")
                break
    days = treatment_days(norm)
    if days is not None and days >= 30:
        reasons.append(f"治療30日以上 (treatment of 30 days or more): about {days} days mentioned")
    return reasons
