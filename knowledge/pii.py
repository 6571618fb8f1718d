"""PII masking for everything shown outside the handling center and for every export.

``find_pii(text)`` returns typed spans (offsets into the ORIGINAL text); ``mask(text)`` returns the
original text with those spans replaced by typed placeholders ([氏名], [電話番号], ...). Detection never
changes what is displayed; it runs on two normalized views mapped back to the original offsets:

* the NFKC view (full-width → ASCII, ＠ → @, half-width katakana composed) for names, mail addresses,
  LINE ids, cards, マイナンバー and the context rules of knowledge.pii_rules;
* the digit view (knowledge.pii_patterns.digit_view: kanji numerals in a numeric context → digits,
  〇九〇 → 090, 二十五年 → 25年) for phones, postal codes, addresses, birth dates and bank accounts.

Detectors (all run; their union is masked, overlapping spans merge under the highest-priority type so
nothing detected is left partly visible):
knowledge.pii_patterns (phones in any grouping, 〒, addresses with or without 市区町村, era/western
birth dates, obfuscated mail addresses), knowledge.pii_names (romaji, katakana and hiragana names),
SudachiPy 人名 here (names split by a space or line break are read joined), and knowledge.pii_rules
(label/kin/role/self-introduction/signature contexts, LINE ids, ゆうちょ accounts).
What is kept: business names (株式会社〇〇, 〇〇(株), 〇〇工務店: a name inside one is not masked), product
names, URLs (scam sites are what makes a case useful), dates that are not a birth date, amounts, 188, and
order/受付 numbers. Quality: bench/pii_quality.py on bench/data/pii_v2_{dev,test}.jsonl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import pii_names, pii_patterns, pii_rules
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
HONORIFICS = ("様", "さん", "氏", "殿", "くん", "ちゃん", "さま", "君", "はん")
GIVEN_TAIL_RE = re.compile(r"[ \n]?([\u4e00-\u9fff]{1,3})(?=です|さん|様|と申|\(|、|。|$|\s|が|は|より)")
KANA_TAIL_RE = re.compile(
    r"[ \n]([\u3041-\u3093]{2,4}|[\u30a1-\u30fa\u30fc]{2,5})(?=です|と申|\(|、|。|$|\s|より)"
)
KANA_NOT_GIVEN = ("さん", "さま", "くん", "ちゃん", "です", "ます", "より", "から", "まで", "など", "ほか")
KANJI_HONORIFIC_RE = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,3})(?=さん|様|さま|くん|ちゃん|氏)")
PLACE_AFTER = frozenset(
    ("支店", "駅", "駅前", "店", "本店", "営業所", "出張所", "線", "方面", "周辺", "付近", "近く", "界隈")
)
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
    spans += _split_names(norm)
    for m in KANJI_HONORIFIC_RE.finditer(norm):  # 優斗さん: a given name Sudachi reads as a common noun
        cand = m.group(1)
        if (
            cand not in NOT_NAMES
            and cand not in pii_rules.NOT_HONORED
            and not cand.endswith(pii_rules.ROLE_ENDINGS)
        ):
            spans.append(PiiSpan(m.start(1), m.end(1), "name"))
    return spans


SPLIT_AT_RE = re.compile(
    r"(?<=[\u4e00-\u9fff\u30a1-\u30fa\u30fc])[ \n](?=[\u4e00-\u9fff\u30a1-\u30fa\u30fc])"
)
NAME_CHAR_RE = re.compile(r"[\u4e00-\u9fff\u30a1-\u30fa\u30fc]")


def _split_names(norm: str) -> list[PiiSpan]:
    """A family and a given name split by a space or line break (松本⏎太郎): Sudachi reads the two
    halves apart as a place and a noun, so read them joined and keep a 姓 + 名 that meets at the break."""
    spans: list[PiiSpan] = []
    for gap in SPLIT_AT_RE.finditer(norm):
        left_start = gap.start()
        while left_start > 0 and gap.start() - left_start < 4 and NAME_CHAR_RE.match(norm[left_start - 1]):
            left_start -= 1
        right_end = gap.end()
        while right_end < len(norm) and right_end - gap.end() < 4 and NAME_CHAR_RE.match(norm[right_end]):
            right_end += 1
        left, right = norm[left_start : gap.start()], norm[gap.end() : right_end]
        morphs = list(_tokenizer().tokenize(left + right))
        fam = next((m for m in morphs if m.end() == len(left)), None)
        given = next((m for m in morphs if m.begin() == len(left)), None)
        if fam is None or given is None:
            continue
        if fam.part_of_speech()[3] == "姓" and given.part_of_speech()[2] == "人名":
            spans.append(PiiSpan(left_start + fam.begin(), gap.end() + given.end() - len(left), "name"))
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
            if not _person_token(morphs, i):
                i += 1
                continue
            j = _extend_name(morphs, i)
        elif i + 1 < len(morphs) and morphs[i + 1].surface() in HONORIFICS and _name_like(m, pos):
            pass
        else:
            i += 1
            continue
        end = morphs[j].end()
        if morphs[i].part_of_speech()[3] == "姓":  # 坂本 優斗: a given name Sudachi splits or reads as a noun
            tail = GIVEN_TAIL_RE.match(norm, end) or KANA_TAIL_RE.match(norm, end)
            if tail and tail.group(1) not in NOT_NAMES and not tail.group(1).startswith(KANA_NOT_GIVEN):
                end = tail.end(1)
        before = morphs[i - 1].surface() if i > 0 else ""
        after = morphs[j + 1].surface() if j + 1 < len(morphs) else ""
        business = (
            before.endswith(BUSINESS_PREFIX)
            or after.startswith(BUSINESS_SUFFIX)
            or norm[max(0, m.begin() - 4) : m.begin()].endswith(BUSINESS_PREFIX)
        )
        if not business:
            spans.append(PiiSpan(m.begin(), end, "name"))
        i = j + 1
    return spans


def _person_token(morphs, i: int) -> bool:  # type: ignore[no-untyped-def]
    """A Sudachi 人名 that is used as a person here: not 梅田支店 / 梅田の駅前, not lower-case English."""
    s = morphs[i].surface()
    if s.isascii() and not s[:1].isupper():
        return False
    nxt = [morphs[k].surface() for k in range(i + 1, min(len(morphs), i + 3))]
    return not (
        nxt and (nxt[0] in PLACE_AFTER or (nxt[0] == "の" and len(nxt) > 1 and nxt[1] in PLACE_AFTER))
    )


def _extend_name(morphs, i: int) -> int:  # type: ignore[no-untyped-def]
    """Last morph of the name starting at ``i``: 佐藤花子, 佐藤 花子, 佐藤⏎花子, 坂本 優斗, Maria Santos."""
    j = i
    while True:
        nxt = morphs[j + 1] if j + 1 < len(morphs) else None
        gap = nxt is not None and nxt.part_of_speech()[0] == "空白" and len(nxt.surface()) <= 2
        after = morphs[j + 2] if gap and j + 2 < len(morphs) else nxt if not gap else None
        if after is None:
            return j
        step = 2 if gap else 1
        a_pos, a_s = after.part_of_speech(), after.surface()
        if a_pos[2] == "人名" and not (a_s.isascii() and not a_s[:1].isupper()):
            j += step
        elif (
            j == i
            and morphs[i].part_of_speech()[3] == "姓"
            and a_pos[0] == "名詞"
            and re.fullmatch(r"[\u4e00-\u9fff]{1,3}", a_s)
            and a_s not in NOT_NAMES
        ):
            j += step  # 姓 + a given name Sudachi reads as a common noun (太郎, 誠, 優斗)
        elif morphs[j].surface().isascii() and re.fullmatch(r"[A-Z][a-z]+|[A-Z]+", a_s) and gap:
            j += step
        else:
            return j


def _name_like(m, pos: tuple[str, ...]) -> bool:  # type: ignore[no-untyped-def]
    s = m.surface()
    if s in NOT_NAMES or len(s) > 8 or pos[0] != "名詞":
        return False
    return pos[1] == "固有名詞" or m.is_oov() or bool(re.fullmatch(r"[\u30a0-\u30ff]{2,}", s))


def _resolve(spans: list[PiiSpan], protected: list[tuple[int, int]]) -> list[PiiSpan]:
    """Union of the detections (outside URLs and business names): overlapping spans merge into one,
    typed by the highest-priority member, so nothing detected is ever left partly visible."""

    def shielded(s: PiiSpan) -> bool:
        return s.type != "email" and any(a <= s.start and s.end <= b for a, b in protected)

    merged: list[PiiSpan] = []
    for s in sorted(x for x in spans if x.end > x.start and not shielded(x)):
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            kind = last.type if PRIORITY[last.type] >= PRIORITY[s.type] else s.type
            merged[-1] = PiiSpan(last.start, max(last.end, s.end), kind)
        else:
            merged.append(s)
    return merged


def _digit_spans(norm: str) -> list[PiiSpan]:
    """Phones, postal codes, addresses and birth dates found on the digit view, in ``norm`` offsets."""
    digi, back = pii_patterns.digit_view(norm)
    found = (
        pii_patterns.phones(digi)
        + pii_patterns.postal_codes(digi)
        + pii_patterns.addresses(digi, _is_place)
        + pii_patterns.birth_dates(digi)
        + pii_patterns.bank_accounts(digi)
    )
    return [PiiSpan(back[s], _end(back, e), t) for s, e, t in found if e > s]


def _is_place(run: str) -> bool:
    """True if the last word of ``run`` is a Sudachi 地名 (a town written without 市区町村)."""
    morphs = list(_tokenizer().tokenize(run[-12:]))
    return bool(morphs) and morphs[-1].part_of_speech()[2] in ("地名", "人名")


def find_pii(text: str) -> list[PiiSpan]:
    """Typed PII spans with offsets into ``text`` (non-overlapping, in order)."""
    if not text:
        return []
    norm, offsets = normalize_with_offsets(text)
    protected = [(m.start(), m.end()) for m in URL_RE.finditer(norm) if "@" not in m.group()]
    found = _regex_spans(norm) + _name_spans(norm) + _digit_spans(norm)
    found += [PiiSpan(*r) for r in pii_patterns.emails(norm)]
    found += [
        PiiSpan(*r) for r in pii_names.romaji_names(norm) + pii_names.kana_names(norm, _common_or_business)
    ]
    found += [PiiSpan(*r) for r in pii_rules.following(norm, [(s.start, s.end, s.type) for s in found])]
    business = [(a, b) for a, b, _ in pii_rules.business_names(norm)]
    found = [
        s for s in found if not (s.type == "name" and any(a <= s.start and s.end <= b for a, b in business))
    ]
    return [PiiSpan(offsets[s.start], _end(offsets, s.end), s.type) for s in _resolve(found, protected)]


def _end(offsets: list[int], end: int) -> int:
    """The original index after normalized char ``end - 1``, including marks NFKC composed into it."""
    if end < len(offsets) and offsets[end] > offsets[end - 1]:
        return offsets[end]
    return offsets[end - 1] + 1


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
