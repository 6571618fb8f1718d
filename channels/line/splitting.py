"""Split long outbound text for LINE: ≤ 5,000 UTF-16 code units per text object, ≤ 5 objects a request.

LINE counts text length in UTF-16 code units, so characters outside the BMP (𠮷, 😀) count 2 and an
emoji ZWJ sequence such as 👨‍👩‍👧 counts 8. We cut at sentence ends (。！？!? and newlines) and, only
when one sentence alone is too long, inside it, never between a character and the joiners,
variation selectors or combining marks that belong to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

MAX_TEXT_UNITS = 5_000
MAX_OBJECTS_PER_REQUEST = 5

_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[」』）)\"']*|\n|$)")
_ZWJ = "\u200d"


def utf16_len(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (a surrogate pair counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _sentences(text: str) -> Iterator[str]:
    for match in _SENTENCE.finditer(text):
        if match.group(0):
            yield match.group(0)


def _clings_to_previous(ch: str) -> bool:
    """True for code points that must stay with the character before them."""
    if ch == _ZWJ or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":
        return True
    if "\U000e0020" <= ch <= "\U000e007f":  # emoji tag sequences (flags of regions)
        return True
    return unicodedata.combining(ch) != 0 or unicodedata.category(ch) in ("Mn", "Me")


def _hard_split(sentence: str, limit: int) -> Iterator[str]:
    """Cut one over-long sentence into pieces of at most ``limit`` units, keeping clusters whole."""
    start, units, last_safe = 0, 0, 0
    i = 0
    while i < len(sentence):
        ch = sentence[i]
        width = 2 if ord(ch) > 0xFFFF else 1
        safe_here = i > start and not _clings_to_previous(ch) and sentence[i - 1] != _ZWJ
        if safe_here:
            last_safe = i
        if units + width > limit:
            cut = last_safe if last_safe > start else i  # a cluster longer than the limit: cut anyway
            yield sentence[start:cut]
            start, units, last_safe = cut, utf16_len(sentence[cut:i]), cut
        units += width
        i += 1
    if start < len(sentence):
        yield sentence[start:]


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Pieces of ``text`` of at most ``limit`` UTF-16 units, cut at sentence boundaries.

    Joining the pieces gives back ``text`` except for pieces that would be only whitespace, which are
    dropped (LINE refuses empty text objects).
    """
    parts: list[str] = []
    current: list[str] = []
    current_units = 0
    for sentence in _sentences(text):
        size = utf16_len(sentence)
        if size > limit:
            if current:
                parts.append("".join(current))
                current, current_units = [], 0
            parts.extend(_hard_split(sentence, limit))
            continue
        if current_units + size > limit:
            parts.append("".join(current))
            current, current_units = [], 0
        current.append(sentence)
        current_units += size
    if current:
        parts.append("".join(current))
    return [p for p in parts if p.strip()]


def batches(parts: Sequence[str], size: int = MAX_OBJECTS_PER_REQUEST) -> list[list[str]]:
    """Group message parts into requests of at most ``size`` objects each."""
    return [list(parts[i : i + size]) for i in range(0, len(parts), size)]
