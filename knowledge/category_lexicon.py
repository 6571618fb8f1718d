"""Keyword evidence for a label from the editable vocabularies (pure, no I/O after loading).

A keyword matches as a substring of the text after NFKC, lower-casing and katakana → hiragana
folding (サプリ = さぷり, Wi-Fi = wi-fi); two-character kana keywords keep their script (カニ must not
match 確かに). A match lying inside a LONGER match of another keyword is
dropped ("エアコンの修理" → 家電修理, not 生活家電 + 修理サービス; "電動自転車" is not also 自転車).
A label scores its longest surviving keyword (longer = more specific, capped at 4 characters) plus
a little for each further distinct keyword, so one telling word outweighs many vague ones.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache

EXTRA_HIT = 0.35  # each further distinct keyword of the same label
MAX_EXTRA = 2
SHORT_KANA = 2


def fold(text: str) -> str:
    """NFKC, lower case, katakana folded to hiragana (ー and ヴ kept)."""
    s = unicodedata.normalize("NFKC", text).lower()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" and c != "ヴ" else c for c in s)


def _key(keyword: str) -> tuple[str, bool]:
    """(how a keyword is matched, whether against the unfolded text): folded, except kana words of
    ``SHORT_KANA`` characters or fewer, which keep their script (カニ must not match 確かに)."""
    s = unicodedata.normalize("NFKC", keyword).lower()
    kana = all("ぁ" <= c <= "ゖ" or "ァ" <= c <= "ヶ" or c == "ー" for c in s)
    return (s, True) if kana and len(s) <= SHORT_KANA else (fold(s), False)


@lru_cache(maxsize=16)
def _folded(
    vocab_items: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, bool, str], ...]:
    """(matching key, unfolded?, label) triples, longest keys first."""
    keys = {(*_key(kw), label) for label, kws in vocab_items for kw in kws if kw.strip()}
    return tuple(sorted(keys, key=lambda k: (-len(k[0]), k[0], k[1], k[2])))


def keyword_matches(text: str, vocab: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """label → its keywords found in ``text`` (as matched), shadowed matches removed, longest first."""
    raw = unicodedata.normalize("NFKC", text).lower()
    hay = fold(raw)  # same length and offsets as raw
    items = tuple((label, tuple(kws)) for label, kws in vocab.items())
    taken: list[tuple[int, int]] = []  # spans of longer keywords already matched
    found: dict[str, list[str]] = defaultdict(list)
    for kw, unfolded, label in _folded(items):
        where = raw if unfolded else hay
        start = where.find(kw)
        kept = False
        while start >= 0:
            end = start + len(kw)
            if not any(s <= start and end <= e and (e - s) > len(kw) for s, e in taken):
                taken.append((start, end))
                kept = True
            start = where.find(kw, start + 1)
        if kept and kw not in found[label]:
            found[label].append(kw)
    return {label: kws for label, kws in found.items() if kws}


def keyword_scores(text: str, vocab: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """label → keyword evidence in [0.25, 1 + EXTRA_HIT × MAX_EXTRA] (see the module docstring)."""
    out: dict[str, float] = {}
    for label, kws in keyword_matches(text, vocab).items():
        best = min(len(kws[0]), 4) / 4
        out[label] = best + EXTRA_HIT * min(len(kws) - 1, MAX_EXTRA)
    return out
