"""Highlighted snippets: the densest window of matched terms, HTML-escaped, matches in <mark>."""

from __future__ import annotations

import html
from collections.abc import Iterable

from knowledge.text import get_analyzer


def highlight(text: str, matched: Iterable[str], width: int = 160) -> str:
    """A window of ``text`` (at most ``width`` chars) with the morphemes that matched in <mark>."""
    wanted = set(matched)
    spans = (
        [(m.start, m.end) for m in get_analyzer().analyze(text) if wanted.intersection(m.terms)]
        if wanted
        else []
    )
    if not spans:
        cut = text[:width]
        return html.escape(cut) + ("…" if len(text) > width else "")
    best_start, best_count = spans[0][0], 0
    for i, (s, _e) in enumerate(spans):
        count = sum(1 for s2, e2 in spans[i:] if e2 <= s + width)
        if count > best_count:
            best_start, best_count = s, count
    start = max(0, min(best_start - width // 4, len(text) - width))
    end = min(len(text), start + width)
    parts: list[str] = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if s < start or e > end or s < pos:
            continue
        parts += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    parts.append(html.escape(text[pos:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts)
