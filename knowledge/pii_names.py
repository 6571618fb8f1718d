"""Person names typed in kana or romaji (for knowledge.pii, on the NFKC text; kanji names come from
SudachiPy there). Returns (start, end, "name") tuples.

* romaji: two words that are name readings or Hepburn-valid with one a known reading (Taro Sato,
  SATO Hanako, sato hanako, Kenta\\nYamada); one known reading next to a name context (Sato さん,
  YOSHIDAです, From: Taro); a capitalised non-Japanese pair next to a name context (Maria Santos さん,
  John Smith <mail>);
* katakana / hiragana: a family + given reading written together or apart (サトウハナコ, さとう はなこ,
  ｶﾄｳ\\nﾁﾖｺ after NFKC), or one reading next to a name context (たなかです, イシイという担当者).
Readings: knowledge/data/name_readings.txt.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.text import DATA_DIR

Span = tuple[int, int, str]

ROMAJI = {
    "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o", "か": "ka", "き": "ki", "く": "ku", "け": "ke", "こ": "ko",
    "さ": "sa", "し": "shi", "す": "su", "せ": "se", "そ": "so", "た": "ta", "ち": "chi", "つ": "tsu", "て": "te",
    "と": "to", "な": "na", "に": "ni", "ぬ": "nu", "ね": "ne", "の": "no", "は": "ha", "ひ": "hi", "ふ": "fu",
    "へ": "he", "ほ": "ho", "ま": "ma", "み": "mi", "む": "mu", "め": "me", "も": "mo", "や": "ya", "ゆ": "yu",
    "よ": "yo", "ら": "ra", "り": "ri", "る": "ru", "れ": "re", "ろ": "ro", "わ": "wa", "を": "o", "ん": "n",
    "が": "ga", "ぎ": "gi", "ぐ": "gu", "げ": "ge", "ご": "go", "ざ": "za", "じ": "ji", "ず": "zu", "ぜ": "ze",
    "ぞ": "zo", "だ": "da", "ぢ": "ji", "づ": "zu", "で": "de", "ど": "do", "ば": "ba", "び": "bi", "ぶ": "bu",
    "べ": "be", "ぼ": "bo", "ぱ": "pa", "ぴ": "pi", "ぷ": "pu", "ぺ": "pe", "ぽ": "po",
}  # fmt: skip
YOON = {"ゃ": "a", "ゅ": "u", "ょ": "o"}
HEPBURN_RE = re.compile(
    r"^(?:(?:[kgszdtnhbpmrfjwy]|sh|ch|ts|[kgnhbpmr]y|j)?[aiueo]|n(?![aiueoy])|([kgsztdhbpmrc])(?=\1|h))+$"
)
NAME_AFTER = (
    r"(?:\s?(?:さん|様|さま|氏|くん|ちゃん|殿|です|と申|より|宛|名義|と名乗|って言|っていい|といい|と言))"
)
LABEL_BEFORE = re.compile(
    r"(?:From:|FROM:|差出人:?|名義人?|氏名|名前|お名前|Name:|name:|担当|相談者|契約者)\s*$"
)


def to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def kana_to_romaji(kana: str) -> str:
    out = ""
    i = 0
    while i < len(kana):
        c = kana[i]
        if c == "っ" and i + 1 < len(kana):
            nxt = ROMAJI.get(kana[i + 1], "")
            out += nxt[:1]
        elif c in YOON and out.endswith("i"):
            base = out[:-1]
            out = base + (YOON[c] if base.endswith(("sh", "ch", "j")) else "y" + YOON[c])
        else:
            out += ROMAJI.get(c, "")
        i += 1
    return out


def _variants(romaji: str) -> set[str]:
    """sato, satou, satoh for さとう; ohno, ono for おおの."""
    short = romaji.replace("ou", "o").replace("uu", "u").replace("oo", "o")
    return {romaji, short, romaji.replace("ou", "oh").replace("oo", "oh")}


@lru_cache(maxsize=1)
def readings() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(family readings, given readings, romaji forms of both), from knowledge/data/name_readings.txt."""
    sections: dict[str, set[str]] = {"surname": set(), "given": set()}
    current = "surname"
    for line in (DATA_DIR / "name_readings.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            continue
        sections[current].update(line.split())
    romaji = {v for r in sections["surname"] | sections["given"] for v in _variants(kana_to_romaji(r))}
    return frozenset(sections["surname"]), frozenset(sections["given"]), frozenset(romaji)


def _kana_name_re() -> re.Pattern[str]:
    fam, given, _ = readings()
    alt_f = "|".join(sorted(fam, key=len, reverse=True))
    alt_g = "|".join(sorted(given, key=len, reverse=True))
    return re.compile(rf"(?:(?:{alt_f})(?:[ \u3000\n]?(?:{alt_g}))?|(?:{alt_g}))")


@lru_cache(maxsize=1)
def _kana_re() -> re.Pattern[str]:
    return _kana_name_re()


ROMAJI_WORD_RE = re.compile(r"(?<![A-Za-z0-9@._\-/#])([A-Za-z]{2,15})(?![A-Za-z0-9@_\-/]|\.[A-Za-z])")
KATA_RUN_RE = re.compile(r"[\u30a1-\u30fa\u30fc]{2,16}(?:[ \u3000\n・][\u30a1-\u30fa\u30fc]{2,10})?")
HIRA_RUN_RE = re.compile(r"[\u3041-\u3093\u30fc]{2,20}(?:[ \u3000\n][\u3041-\u3093]{2,10})?")
NOT_ROMAJI_NAMES = frozenset(
    [
        "amazon",
        "line",
        "pay",
        "apple",
        "google",
        "yahoo",
        "rakuten",
        "mercari",
        "honda",
        "toyota",
        "nissan",
        "mazda",
        "suzuki",
        "sony",
        "panasonic",
        "sharp",
        "tokyo",
        "osaka",
        "japan",
        "nagoya",
        "kyoto",
        "fukuoka",
        "docomo",
        "au",
        "softbank",
        "uber",
        "netflix",
        "sagawa",
        "yamato",
        "ok",
        "no",
        "id",
        "sms",
        "tel",
        "fax",
        "mail",
        "email",
        "the",
        "and",
        "you",
        "are",
        "from",
        "to",
        "for",
        "ni",
        "de",
        "wo",
        "ga",
        "ha",
        "na",
        "ne",
        "yo",
        "sa",
        "iphone",
        "ipad",
        "wifi",
        "net",
        "pro",
        "max",
        "mini",
    ]
)
FOREIGN_PAIR_RE = re.compile(
    r"(?<![A-Za-z0-9@._\-])([A-Z][a-z]{1,15}[ \u3000\n][A-Z][a-z]{1,15})(?![A-Za-z0-9@._\-])"
)


def _is_romaji(word: str) -> bool:
    return bool(HEPBURN_RE.match(word.lower()))


def _romaji_known(word: str) -> bool:
    w = word.lower()
    return w not in NOT_ROMAJI_NAMES and w in readings()[2]


STRONG_AFTER = (  # "という" alone also follows products (エターナルコインという暗号資産): only before a person
    r"(?:\s?(?:さん|様|さま|氏|くん|ちゃん|殿|と申|と名乗|名義|(?:という|っていう)(?:担当|人|男性|女性|方|者)))"
)
KIN = r"(?:母|父|息子|娘|夫|妻|祖母|祖父|兄|姉|弟|妹|孫|長男|長女|次男|次女|主人|家内)"
NAME_CH = r"[\u3041-\u3093\u30a1-\u30fa\u30fcA-Za-z]"
KIN_OF_RE = re.compile(
    rf"{KIN}(?:の|は|、|\()\s?({NAME_CH}{{2,12}}(?:[ \u3000\n]{NAME_CH}{{1,12}})?)(?=[()、,。]|が|は|を|に|も|と|です|$)"
)


LINE_START_RE = re.compile(
    r"(?m)^(?:相談者\s?)?([\u3041-\u3093]{2,6}|[\u30a1-\u30fa\u30fc]{2,6})(?=、|です|より|\(|$)"
)
KANA_PAIR_RE = re.compile(
    r"(?<![\u3041-\u3093])([\u3041-\u3093]{2,5})[ \u3000]([\u3041-\u3093]{2,5}?)(?=さん|様|さま|です|と申)"
)


def _isolated(norm: str, start: int, end: int) -> bool:
    """No other ASCII word right before or after (the word is not part of an English phrase)."""
    before = norm[max(0, start - 2) : start].rstrip(" ")
    after = norm[end : end + 2].lstrip(" ")
    return not (before[-1:].isascii() and before[-1:].isalpha()) and not (
        after[:1].isascii() and after[:1].isalpha()
    )


def romaji_names(norm: str) -> list[Span]:
    """Romaji and foreign names (see the module docstring)."""
    out: list[Span] = []
    words = list(ROMAJI_WORD_RE.finditer(norm))
    used: set[int] = set()
    for a, b in zip(words, words[1:], strict=False):
        if norm[a.end() : b.start()] not in (" ", "\u3000", "\n", "\t"):
            continue
        wa, wb = a.group(1), b.group(1)
        both = {wa.lower(), wb.lower()} <= readings()[2]  # Suzuki Taro: a brand word is a name next to a name
        if not both and (wa.lower() in NOT_ROMAJI_NAMES or wb.lower() in NOT_ROMAJI_NAMES):
            continue
        if both or (_romaji_known(wa) and _is_romaji(wb)) or (_romaji_known(wb) and _is_romaji(wa)):
            out.append((a.start(1), b.end(1), "name"))
            used.update((a.start(), b.start()))
    for w in words:
        word = w.group(1)
        if w.start() in used or len(word) < 3 or word.lower() in NOT_ROMAJI_NAMES:
            continue
        after, before = norm[w.end() : w.end() + 6], norm[max(0, w.start() - 8) : w.start()]
        strong = bool(re.match(STRONG_AFTER, after)) or bool(LABEL_BEFORE.search(before))
        if (
            _romaji_known(word)
            and (strong or re.match(NAME_AFTER, after) or _isolated(norm, w.start(), w.end()))
            or _is_romaji(word)
            and strong
        ):
            out.append((w.start(1), w.end(1), "name"))
    for m in FOREIGN_PAIR_RE.finditer(norm):
        after, before = norm[m.end() : m.end() + 6], norm[max(0, m.start() - 8) : m.start()]
        if re.match(rf"{NAME_AFTER}|\s?[(<]\s?[A-Za-z0-9._%+\-]+@", after) or LABEL_BEFORE.search(before):
            out.append((m.start(1), m.end(1), "name"))
    return out


def _known(hira: str) -> bool:
    fam, given, _ = readings()
    return hira in fam or hira in given


def _kana_candidate(run: str) -> bool:
    """A katakana run (or pair) that reads as a name: family + given, a known part of 3+ kana."""
    parts = re.split(r"[ \u3000\n・]", to_hiragana(run))
    if len(parts) == 2:
        return any(_known(p) and len(p) >= 2 for p in parts) and all(len(p) >= 2 for p in parts)
    h = parts[0]
    if _known(h) and len(h) >= 3 or _is_full(h):
        return True
    fam, given, _ = readings()
    return any(h[:i] in fam and len(h) - i >= 2 for i in range(3, len(h) - 1)) or any(
        h[i:] in given and i >= 2 for i in range(2, len(h) - 2)
    )


GIVEN_THEN_HONORIFIC_RE = re.compile(
    r"(?![のはがをにともへでや])([\u3041-\u3093]{2,5}?)(?:です|さん|さま|様|と申|くん|ちゃん|[がはをにの](?![\u3041-\u3093]))"
)


def _given_after(norm: str, end: int) -> int | None:
    """The end of a hiragana given name right after a known family name (やまもと|けんいち と申します)."""
    m = GIVEN_THEN_HONORIFIC_RE.match(norm, end)
    return m.end(1) if m else None


def kana_names(norm: str, is_common_word: object = None) -> list[Span]:
    """Names in katakana or hiragana (see the module docstring)."""
    out: list[Span] = []
    for run in KATA_RUN_RE.finditer(norm):
        after, before = norm[run.end() : run.end() + 6], norm[max(0, run.start() - 8) : run.start()]
        strong = re.match(STRONG_AFTER, after) or LABEL_BEFORE.search(before)
        known_short = _known(to_hiragana(run.group())) and re.match(NAME_AFTER, after)
        if _kana_candidate(run.group()) or strong or known_short:
            out.append((run.start(), run.end(), "name"))
    for m in _kana_re().finditer(norm):
        s, e = m.start(), m.end()
        prev, rest = norm[s - 1 : s], norm[e : e + 6]
        given = _given_after(norm, e)
        if given and not (re.match(r"[\u3041-\u3093]", prev) and prev not in "はのが"):
            out.append((s, given, "name"))  # やまもと|けんいち と申します: family then given name, one name
            continue
        if re.match(r"[\u3041-\u3093]", rest) and not re.match(
            r"(?:です|さん|さま|様|と申|より|って|くん|ちゃん)", rest
        ):
            continue  # inside a longer hiragana word
        if (
            re.match(r"[\u3041-\u3093]", prev)
            and prev not in "はのが"
            and not re.match(r"(?:です|さん|さま|様|と申)", rest)
        ):
            continue
        if len(m.group()) >= 3 or re.match(r"(?:さん|さま|様|くん|ちゃん)", rest):
            out.append((s, e, "name"))
    for m in LINE_START_RE.finditer(norm):  # "ひな、…" / "あやです" at the start of a line
        if _known(to_hiragana(m.group(1))):
            out.append((m.start(1), m.end(1), "name"))
    for m in KANA_PAIR_RE.finditer(norm):  # ひが まさおさん: an unknown family name before a known given name
        if _known(m.group(2)):
            out.append((m.start(1), m.end(2), "name"))
    for m in KIN_OF_RE.finditer(norm):
        cand = m.group(1)
        hira = to_hiragana(cand)
        if cand.isascii():
            ok = _romaji_known(cand.split()[0]) or all(_is_romaji(w) for w in cand.split())
        elif re.fullmatch(r"[\u3041-\u3093 \u3000\n]+", cand):
            ok = any(_known(p) or _is_full(p) for p in re.split(r"[ \u3000\n]", hira)) or any(
                hira.endswith(g) for g in readings()[1] if len(g) >= 3
            )
        else:
            ok = not (callable(is_common_word) and is_common_word(cand))
        if ok:
            out.append((m.start(1), m.end(1), "name"))
    return out


def _is_full(kana: str) -> bool:
    fam, given, _ = readings()
    return any(kana[:i] in fam and kana[i:] in given for i in range(2, len(kana) - 1))
