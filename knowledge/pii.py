"""PII masking for everything shown outside the handling center and for every export.

``find_pii(text)`` returns typed spans (offsets into the ORIGINAL text); ``mask(text)`` replaces
them with typed placeholders ([氏名], [電話番号], ...). Detection runs on the NFKC form (so
full-width digits and hyphens are caught) and maps back to the original offsets.

What is masked: person names (Sudachi 人名, and names before 様/さん/氏/殿 or after 氏名:/名前は),
phone numbers (mobile, fixed, 0120/0800, +81), email addresses, postal codes, street addresses
(place + block number), 12-digit individual numbers (マイナンバー, check digit or context), card
numbers (Luhn), bank accounts (口座番号 context), LINE ids (LINE ID context), dates of birth
(生年月日 context). What is kept: business names (株式会社〇〇, 〇〇工務店), product names, URLs
(scam sites are what makes a case useful), dates that are not a birth date, amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import pii_rules
from knowledge.text import _chunks, _tokenizer, normalize_with_offsets

PLACEHOLDERS = {
    "name": "[氏名]",
    "phone": "[電話番号]",
    "email": "[メールアドレス]",
    "postal": "[郵便番号]",
    "address": "[住所]",
    "mynumber": "[個人番号]",
    "card": "[カード番号]",
    "bank": "[口座番号]",
    "line_id": "[LINE ID]",
    "birthdate": "[生年月日]",
}
# Higher wins when two detections overlap.
PRIORITY = {
    "email": 9,
    "card": 8,
    "mynumber": 8,
    "bank": 7,
    "line_id": 7,
    "birthdate": 6,
    "phone": 6,
    "postal": 5,
    "address": 4,
    "name": 3,
}

DC = r"\-‐‑–—―−ー"  # hyphen-like characters after NFKC (ー is often typed for a hyphen)
D = f"[{DC}]"
URL_RE = re.compile(
    r"(?:https?://|www\.)[\w\-./?%&=#:~+@!$,;*()']+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|jp|info|biz|xyz|top|shop|site|online|co|io|cn|ru)(?:/[\w\-./?%&=#~+]*)?\b",
    re.I,
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
PHONE_RE = re.compile(
    rf"(?<![\d{DC}])(?:\+81{D}?\s?\(?0?\)?|0)\d{{1,4}}(?:{D}|\s|\(|\)\s?){{0,2}}\d{{1,4}}(?:{D}|\s|\)){{0,2}}\d{{3,4}}(?![\d])"
)
POSTAL_RE = re.compile(
    rf"(?:〒\s?|郵便番号[は:\s]*)\d{{3}}{D}?\d{{4}}(?!\d)|(?<![\d{DC}])\d{{3}}{D}\d{{4}}(?![\d{DC}])"
)
DIGITS_RE = re.compile(rf"(?<![\d])\d(?:[\d\s]|{D}){{10,22}}\d(?!\d)")
MYNUMBER_CTX = re.compile(r"マイナンバー|個人番号")
BANK_RE = re.compile(
    rf"(?:口座番号|口座|普通預金|当座預金|普通|当座)(?:[はがを:：\s]|番号)*(?:\d{{3,4}}{D}?)?(\d{{7,8}})(?!\d)"
)
LINE_RE = re.compile(
    r"(?:LINE|ライン|ﾗｲﾝ)\s*(?:ID|id|アカウント|のID)\s*(?:は|:|：|=)?\s*[「『\"']?@?([A-Za-z0-9][A-Za-z0-9._\-]{2,19})",
    re.I,
)
ERA = r"(?:明治|大正|昭和|平成|令和|[MTSHR]\.?)"
DATE = rf"(?:(?:\d{{4}}|{ERA}\s?(?:\d{{1,2}}|元))\s?(?:年|/|{D}|\.)\s?\d{{1,2}}\s?(?:月|/|{D}|\.)\s?\d{{1,2}}日?)"
BIRTH_RE = re.compile(rf"(?:生年月日|誕生日|生まれ)(?:[はが:：\s]|、)*({DATE})|({DATE})\s?(?:生まれ|生)")
ADDRESS_RE = re.compile(
    rf"(?:北海道|東京都|京都府|大阪府|[\u4e00-\u9fff]{{2,3}}県)?(?:[\u4e00-\u9fffヶケ]{{1,8}}|さいたま|つくば|いわき|ひたちなか|かすみがうら|みどり|あきる野)[市区町村郡]"
    rf"[\u4e00-\u9fff\u30a0-\u30ffヶ]{{0,12}}?[0-9一二三四五六七八九十]+(?:丁目|番地|番|号|{D})(?:[0-9]+(?:番地|番|号|{D})?)*(?:[0-9]+号室)?"
)
HONORIFICS = ("様", "さん", "氏", "殿", "くん", "ちゃん")
NAME_CTX_RE = re.compile(
    r"(?:氏名|名前|名義|契約者名?)(?:は|:|：|\s)+([\u4e00-\u9fff\u30a0-\u30ff\u3040-\u309f]{2,10}?)(?=です|と申|で、|、|。|\s|$|様|さん)"
)
NOT_NAMES = pii_rules.NOT_NAMES
BUSINESS_PREFIX = pii_rules.BUSINESS_PREFIX
BUSINESS_SUFFIX = pii_rules.BUSINESS_SUFFIX


@dataclass(frozen=True, order=True)
class PiiSpan:
    start: int
    end: int
    type: str


def luhn_ok(digits: str) -> bool:
    """The Luhn check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mynumber_ok(digits: str) -> bool:
    """Check digit of the 12-digit individual number (番号法施行令 第八条)."""
    if len(digits) != 12:
        return False
    p = [int(c) for c in digits[:11]][::-1]
    s = sum(pn * (n + 1 if n <= 6 else n - 5) for n, pn in enumerate(p, start=1))
    r = s % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def _regex_spans(norm: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    spans += [PiiSpan(m.start(), m.end(), "email") for m in EMAIL_RE.finditer(norm)]
    for m in DIGITS_RE.finditer(norm):
        digits = re.sub(r"\D", "", m.group())
        ctx = norm[max(0, m.start() - 15) : m.start()]
        if len(digits) == 12 and (mynumber_ok(digits) or MYNUMBER_CTX.search(ctx)):
            spans.append(PiiSpan(m.start(), m.end(), "mynumber"))
        elif pii_rules.NOT_CARD_CTX.search(ctx):
            continue  # an order / slip / tracking number, not a payment card
        elif (
            13 <= len(digits) <= 19
            and luhn_ok(digits)
            or 14 <= len(digits) <= 16
            and re.search(r"カード", ctx)
        ):
            spans.append(PiiSpan(m.start(), m.end(), "card"))
    for m in PHONE_RE.finditer(norm):
        digits = re.sub(r"\D", "", m.group())
        national = "0" + digits[2:] if digits.startswith("81") else digits
        if 10 <= len(national) <= 11 and national.startswith("0"):
            spans.append(PiiSpan(m.start(), m.end(), "phone"))
    spans += [PiiSpan(m.start(), m.end(), "postal") for m in POSTAL_RE.finditer(norm)]
    spans += [PiiSpan(m.start(1), m.end(1), "bank") for m in BANK_RE.finditer(norm)]
    spans += [PiiSpan(m.start(1), m.end(1), "line_id") for m in LINE_RE.finditer(norm)]
    for m in BIRTH_RE.finditer(norm):
        g = 1 if m.group(1) else 2
        spans.append(PiiSpan(m.start(g), m.end(g), "birthdate"))
    spans += [PiiSpan(m.start(), m.end(), "address") for m in ADDRESS_RE.finditer(norm)]
    spans += [
        PiiSpan(m.start(1), m.end(1), "name")
        for m in NAME_CTX_RE.finditer(norm)
        if m.group(1) not in NOT_NAMES
    ]
    rules = pii_rules.line_ids(norm) + pii_rules.birthdates(norm) + pii_rules.bank_accounts(norm)
    rules += pii_rules.names(norm, _common_or_business)
    return spans + [PiiSpan(*r) for r in rules]


def _common_or_business(candidate: str) -> bool:
    """True for a word that is not a name: one Sudachi common noun, a role, or a business name."""
    if candidate in NOT_NAMES or candidate.endswith(BUSINESS_SUFFIX) or candidate.startswith(BUSINESS_PREFIX):
        return True
    morphs = list(_tokenizer().tokenize(candidate))
    if any(m.part_of_speech()[2] == "人名" for m in morphs):
        return False
    return len(morphs) == 1 and morphs[0].part_of_speech()[1] in ("普通名詞", "代名詞", "数詞")


def _name_spans(norm: str) -> list[PiiSpan]:
    """Person names from Sudachi (人名) and from honorifics, skipping business names."""
    spans: list[PiiSpan] = []
    for base, chunk in _chunks(norm):
        if chunk.strip():
            spans += [PiiSpan(s.start + base, s.end + base, s.type) for s in _chunk_names(chunk)]
    return spans


def _chunk_names(norm: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    morphs = list(_tokenizer().tokenize(norm))
    i = 0
    while i < len(morphs):
        m = morphs[i]
        pos = m.part_of_speech()
        j = i
        if pos[2] == "人名":
            while j + 1 < len(morphs) and morphs[j + 1].part_of_speech()[2] == "人名":
                j += 1
        elif i + 1 < len(morphs) and morphs[i + 1].surface() in HONORIFICS and _name_like(m, pos):
            pass
        else:
            i += 1
            continue
        before = morphs[i - 1].surface() if i > 0 else ""
        after = morphs[j + 1].surface() if j + 1 < len(morphs) else ""
        business = (
            before.endswith(BUSINESS_PREFIX)
            or after.startswith(BUSINESS_SUFFIX)
            or norm[max(0, m.begin() - 4) : m.begin()].endswith(BUSINESS_PREFIX)
        )
        if not business:
            spans.append(PiiSpan(m.begin(), morphs[j].end(), "name"))
        i = j + 1
    return spans


def _name_like(m, pos: tuple[str, ...]) -> bool:  # type: ignore[no-untyped-def]
    s = m.surface()
    if s in NOT_NAMES or len(s) > 8 or pos[0] != "名詞":
        return False
    return pos[1] == "固有名詞" or m.is_oov() or bool(re.fullmatch(r"[\u30a0-\u30ff]{2,}", s))


def _resolve(spans: list[PiiSpan], protected: list[tuple[int, int]]) -> list[PiiSpan]:
    def inside_url(s: PiiSpan) -> bool:
        return s.type != "email" and any(a <= s.start and s.end <= b for a, b in protected)

    ranked = sorted(
        (s for s in spans if s.end > s.start and not inside_url(s)),
        key=lambda s: (-PRIORITY[s.type], -(s.end - s.start), s.start),
    )
    chosen: list[PiiSpan] = []
    for s in ranked:
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen)


def find_pii(text: str) -> list[PiiSpan]:
    """Typed PII spans with offsets into ``text`` (non-overlapping, in order)."""
    if not text:
        return []
    norm, offsets = normalize_with_offsets(text)
    protected = [(m.start(), m.end()) for m in URL_RE.finditer(norm) if "@" not in m.group()]
    found = _regex_spans(norm) + _name_spans(norm)
    found += [PiiSpan(*r) for r in pii_rules.following(norm, [(s.start, s.end, s.type) for s in found])]
    spans = _resolve(found, protected)
    out = []
    for s in spans:
        start = offsets[s.start]
        end = offsets[s.end - 1] + 1
        out.append(PiiSpan(start, end, s.type))
    return out


def mask(text: str) -> str:
    """``text`` with every PII span replaced by its typed placeholder."""
    spans = find_pii(text)
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(PLACEHOLDERS[s.type])
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)
