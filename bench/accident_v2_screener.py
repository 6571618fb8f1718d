"""The rules screener v2 as it was before the v4 work (knowledge/accident.py + bench/data/accident_rules_v2.json
frozen on 2026-12-02), kept only as the bench's "before" column. Do not edit."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from knowledge.accident_rules import AccidentRules, load_rules
from knowledge.text import get_dictionary, normalize

RULES_PATH = Path(__file__).resolve().parent / "data" / "accident_rules_v2.json"
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
UNIT = r"(日|週間|週|か月|ヵ月|ヶ月|カ月|ケ月|箇月|月|年)"
DURATION = re.compile(
    rf"(?:全治|治療|加療|入院|通院|療養|安静|完治まで|完治に|治るまで|治るのに|治るには|回復まで|回復に)[^。\n]{{0,12}}?({NUM})\s*{UNIT}"
    rf"|({NUM})\s*{UNIT}[^。\n]{{0,6}}?(?:の|も|ほど|くらい|間)?[^。\n]{{0,4}}?(?:治療|加療|入院|通院|療養|安静|けが|怪我|重傷)"
)
SUDACHI_MAX = 4000  # characters of a sentence given to Sudachi (its input limit is in bytes)
_local = threading.local()
SENTENCE_END = re.compile(r"[。．！？!?\n]+|[\U0001F000-\U0001FAFF\u2600-\u27BF]+")


@dataclass(frozen=True)
class Hit:
    """One rule that fired: its id, label, tier, the words matched and the sentence they were in."""

    rule: str
    label: str
    tier: str
    words: tuple[str, ...]
    sentence: str


@dataclass(frozen=True)
class Suppressed:
    """A match that did not count, and why (a negation cue, a blocker id, ``pet`` or ``no cause``)."""

    rule: str
    word: str
    why: str


@dataclass
class Screening:
    """The outcome for one text: tier (serious | review | none), the hits and the suppressed matches."""

    tier: str = "none"
    hits: list[Hit] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)

    def reasons(self, tier: str = "serious") -> list[str]:
        """Human-readable reasons for the hits of ``tier``: label, rule id and the words that fired."""
        return [
            f"{h.label} [rule {h.rule}]: " + "".join(f"「{w}」" for w in h.words)
            for h in self.hits
            if h.tier == tier
        ]


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


def _durations(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for m in DURATION.finditer(text):
        num, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        n = kanji_to_int(num)
        if n is None:
            continue
        days = n * 7 if unit.startswith("週") else n * 365 if unit == "年" else n * 30 if "月" in unit else n
        out.append((m.group(), days))
    return out


def treatment_days(text: str) -> int | None:
    """The longest treatment period mentioned (in days), or None."""
    found = [days for _, days in _durations(normalize(text))]
    return max(found) if found else None


@dataclass(frozen=True)
class _Compiled:
    rules: AccidentRules
    clause_break: re.Pattern[str]
    negation: re.Pattern[str]
    person: re.Pattern[str]
    pet: re.Pattern[str]
    cause: re.Pattern[str]
    patterns: dict[str, re.Pattern[str]]
    blockers: dict[str, re.Pattern[str]]
    blocker_sentence: dict[str, re.Pattern[str] | None]


def _alt(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) if patterns else r"(?!x)x")


@lru_cache(maxsize=4)
def _compiled(path: Path = RULES_PATH) -> _Compiled:
    rules = load_rules(path)
    return _Compiled(
        rules=rules,
        clause_break=re.compile(rules.clause_breaks),
        negation=_alt(rules.negations),
        person=re.compile(rules.person_cues),
        pet=re.compile(rules.pet_cues),
        cause=re.compile(rules.cause_cues),
        patterns={r.id: _alt(r.patterns) for r in rules.rules},
        blockers={b.id: _alt(b.patterns) for b in rules.blockers},
        blocker_sentence={
            b.id: re.compile(b.requires_in_sentence) if b.requires_in_sentence else None
            for b in rules.blockers
        },
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of an NFKC text: split at 。！？, newlines and emoji (LINE messages use them as stops)."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def noun_normalized(sentence: str) -> str:
    """The sentence with each noun replaced by its Sudachi normalized form (にゅういん→入院, ケガ→怪我).

    Verbs and endings keep their surface, so the conjugation-aware patterns and negations still apply.
    """
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = _local.tokenizer = get_dictionary().tokenizer()
    out: list[str] = []
    for m in tok.tokenize(sentence[:SUDACHI_MAX]):
        norm = m.normalized_form()
        out.append(norm if m.part_of_speech()[0] == "名詞" and norm else m.surface())
    return "".join(out) + sentence[SUDACHI_MAX:]


def _negated(c: _Compiled, sentence: str, end: int) -> str | None:
    tail = sentence[end : end + c.rules.negation_window]
    stop = c.clause_break.search(tail)
    m = c.negation.search(tail[: stop.start()] if stop else tail)
    return m.group() if m else None


def screen(text: str, rules_path: Path = RULES_PATH) -> Screening:
    """Screen ``text`` for 重大事故等 (tier serious) or a possible 消費者事故等 (tier review)."""
    result = Screening()
    if not text or not text.strip():
        return result
    c = _compiled(rules_path)
    norm = normalize(text)
    message_blockers = [b for b in c.rules.blockers if b.scope == "message" and c.blockers[b.id].search(norm)]
    sentences = []
    for sentence in split_sentences(norm):
        nouns = noun_normalized(sentence)
        sentences.append((sentence, [sentence] if nouns == sentence else [sentence, nouns]))
    has_cause = any(c.cause.search(v) for _, views in sentences for v in views)
    for sentence, views in sentences:
        context = "\n".join(views)
        blocked: dict[str, str] = {}
        for b in c.rules.blockers:
            if b.scope == "sentence" and c.blockers[b.id].search(context):
                blocked.update({k: b.id for k in b.kinds if k not in blocked})
        for b in message_blockers:
            need = c.blocker_sentence[b.id]
            if need is None or need.search(context):
                blocked.update({k: b.id for k in b.kinds if k not in blocked})
        person_named = bool(c.person.search(context))
        pet_only = bool(c.pet.search(context)) and not person_named
        for rule in c.rules.rules:
            matches: list[tuple[str, str, int]] = []
            for view in views:
                if rule.kind == "duration":
                    long = [w for w, days in _durations(view) if days >= c.rules.duration_threshold_days]
                    matches += [(view, w, view.find(w) + len(w)) for w in long]
                else:
                    matches += [(view, m.group(), m.end()) for m in c.patterns[rule.id].finditer(view)]
            words: list[str] = []
            for view, word, end in matches:
                why = (
                    _negated(c, view, end)
                    or blocked.get(rule.kind)
                    or ("pet" if "person" in rule.needs and pet_only else None)
                    or ("no person" if "person_named" in rule.needs and not person_named else None)
                    or ("no cause" if "cause" in rule.needs and not has_cause else None)
                )
                if why:
                    result.suppressed.append(Suppressed(rule.id, word, why))
                elif word not in words:
                    words.append(word)
            if words:
                result.hits.append(Hit(rule.id, rule.label, rule.tier, tuple(words), sentence))
    tiers = {h.tier for h in result.hits}
    result.tier = "serious" if "serious" in tiers else "review" if "review" in tiers else "none"
    return result


def detect_serious_accident(text: str) -> list[str]:
    """Reasons to suspect a 重大事故等 in ``text``, one per rule (a supervisor confirms; nothing is decided)."""
    screening = screen(text)
    merged: dict[str, tuple[str, list[str]]] = {}
    for h in screening.hits:
        if h.tier != "serious":
            continue
        label, words = merged.setdefault(h.rule, (h.label, []))
        words.extend(w for w in h.words if w not in words)
    return [
        f"{label} [rule {rule}]: " + "".join(f"「{w}」" for w in words)
        for rule, (label, words) in merged.items()
    ]
