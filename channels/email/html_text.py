"""HTML mail to safe plain text (stdlib ``html.parser``): text only.

Scripts, styles and heads are dropped; images (tracking pixels included) are never fetched or
shown; links are shown as ``text (https://…)``. The result is plain text: no markup reaches the
console.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"}
_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
    "dd",
    "dt",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.href: list[str | None] = []
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip += 1
            return
        if self.skip:
            return
        if tag in _BLOCK:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.href.append(href if re.match(r"(?i)(https?|mailto):", href) else None)
            self.link_text.append("")
        # img: nothing at all (no remote content, no tracking pixel, no alt spam)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "a" and self.href:
            href = self.href.pop()
            text = self.link_text.pop().strip()
            if href:
                shown = href[7:] if href.lower().startswith("mailto:") else href
                if shown != text:
                    self.out.append(f" ({shown})")
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data)
        if self.link_text:
            self.link_text[-1] += data


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body."""
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        pass
    text = "".join(parser.out)
    lines = [
        re.sub(r"[ \t\u00a0\u3000]+", lambda m: " " if m.group(0) != "\u3000" else "\u3000", ln).strip()
        for ln in text.split("\n")
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
