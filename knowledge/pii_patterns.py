"""Number-shaped PII (phones, postal codes, addresses, birth dates, mail addresses) the way consumers type
it, for knowledge.pii. Every rule returns (start, end, type) tuples on the text it is given.

Phones, postal codes, addresses and dates run on the *digit view* (``digit_view``: NFKC text in which
kanji numerals in a numeric context became ASCII digits, 〇九〇 → 090, 二十五年 → 25年), so one pattern
covers 090-1234-5678, ０９０ー１２３４ー５６７８, 090.1234.5678, 〇九〇・一二三四・五六七八 and 090 1234 5678.
Mail addresses run on the NFKC text. Display is never changed: knowledge.pii maps spans back.

* phone: digit groups joined by at most two separators (- ー . ・ / space の ( )), 10–11 digits from a
  leading 0 (or +81 …), never inside a longer digit run;
* postal: 〒/郵便番号 + 3+4 digits (any separator), or a bare 123-4567;
* address: a place name (kanji/katakana, 市区町村 optional) + a block number (1丁目2番3号, 1-2-3, 2の3の4,
  5番地の3, 5丁151番地, 北1条西2丁目) + an optional building and room (ハイツ梅田305号室, -1205, 3F); any
  NNN号室; a place ending in 町 after 市/区 + one number;
* birth date: a date (era, S25.3.4, 元年, western, month-day) before 生/生まれ/に生まれた or after
  生年月日/誕生日/生まれは; any full 明治/大正/昭和 date (nobody signs a contract in 昭和 any more);
* email: local part + @ / ＠ / (at) / [at] / アットマーク / " at " + a domain whose dots may be written
  (dot) / ドット / " . "; a missing TLD (sato@gmail) is still an address.
"""

from __future__ import annotations

import re

Span = tuple[int, int, str]

KANJI_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}
KANJI_UNIT = {"十": 10, "百": 100, "千": 1000}
KANJI_NUM_RE = re.compile(r"[〇零一二三四五六七八九十百千]+")
NUM_CONTEXT_AFTER = re.compile(r"[年月日丁番号条歳才階の・\-‐−ー./\d]|$")
NUM_CONTEXT_BEFORE = re.compile(r"(?:[昭和平成令和大正明治年月\d・\-‐−ー./の(〒]|番号|は|:)$")
KATA_DIGITS = {"ゼロ": "0", "レイ": "0", "マル": "0", "イチ": "1", "ニー": "2", "サン": "3", "ヨン": "4",
               "ゴー": "5", "ロク": "6", "ナナ": "7", "ハチ": "8", "キュー": "9", "キュウ": "9"}  # fmt: skip
KATA_DIGITS_RE = re.compile(rf"(?:{'|'.join(sorted(KATA_DIGITS, key=len, reverse=True))}){{3,}}")
KATA_ONE_RE = re.compile("|".join(sorted(KATA_DIGITS, key=len, reverse=True)))


def _kanji_value(run: str) -> str:
    """〇九〇 → 090 (digit by digit); 二十五 → 25, 千九百五十 → 1950 (positional)."""
    if not any(c in KANJI_UNIT for c in run):
        return "".join(KANJI_DIGIT[c] for c in run)
    total, cur = 0, 0
    for c in run:
        if c in KANJI_UNIT:
            total += (cur or 1) * KANJI_UNIT[c]
            cur = 0
        else:
            cur = cur * 10 + int(KANJI_DIGIT[c])
    return str(total + cur)


KANJI_PHRASE_RE = re.compile(r"[〇零一二三四五六七八九](?:[\s・.\-‐−ー/の]{0,2}[〇零一二三四五六七八九])+")


def _phrase_runs(norm: str) -> set[int]:
    """Starts of kanji-digit runs inside a phrase of 4+ kanji digits (〇四六七　四二　八二〇六)."""
    starts: set[int] = set()
    for m in KANJI_PHRASE_RE.finditer(norm):
        if sum(c in KANJI_DIGIT for c in m.group()) >= 4:
            starts.update(r.start() for r in KANJI_NUM_RE.finditer(norm, m.start(), m.end()))
    return starts


def digit_view(norm: str) -> tuple[str, list[int]]:
    """``norm`` with numeric kanji (and katakana digit words) as ASCII digits; offsets[i] → index in norm."""
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    phrase = _phrase_runs(norm)
    matches = sorted(
        [
            (m.start(), m.end(), _kanji_value(m.group()))
            for m in KANJI_NUM_RE.finditer(norm)
            if m.start() in phrase or _numeric(norm, m)
        ]
        + [
            (m.start(), m.end(), "".join(KATA_DIGITS[w] for w in KATA_ONE_RE.findall(m.group())))
            for m in KATA_DIGITS_RE.finditer(norm)
        ]
    )
    for start, end, value in matches:
        if start < pos:
            continue
        out.append(norm[pos:start])
        offsets.extend(range(pos, start))
        n = len(value)
        out.append(value)
        offsets.extend(start + (k * (end - start - 1) // (n - 1) if n > 1 else 0) for k in range(n))
        pos = end
    out.append(norm[pos:])
    offsets.extend(range(pos, len(norm)))
    return "".join(out), offsets


def _numeric(norm: str, m: re.Match[str]) -> bool:
    run = m.group()
    if len(run) >= 3 and not any(c in KANJI_UNIT for c in run):
        return True
    after = norm[m.end() : m.end() + 1]
    before = norm[max(0, m.start() - 2) : m.start()]
    if NUM_CONTEXT_AFTER.match(after) and after != "":
        return not (after == "の" and not NUM_CONTEXT_BEFORE.search(before) and len(run) == 1)
    return bool(NUM_CONTEXT_BEFORE.search(before)) and (
        after == "" or not after.isalpha() or after in "年月日"
    )


# ------------------------------------------------------------------ phones
H = r"\-‐‑–—―−ー"  # hyphen-likes after NFKC (ー is typed for a hyphen)
PSEP = rf"[{H}\s.・/()の]"
GROUPS_RE = re.compile(rf"(\+\s?)?\d+(?:{PSEP}{{1,3}}\d+)*")
GROUP_RE = re.compile(r"\d+")


def phones(digi: str) -> list[Span]:
    """Phone numbers in any grouping; see the module docstring."""
    out: list[Span] = []
    for run in GROUPS_RE.finditer(digi):
        before = digi[max(0, run.start() - 2) : run.start()]
        if before[-1:].isascii() and before[-1:].isalnum() or re.fullmatch(rf"[A-Za-z0-9][{H}#]", before):
            continue  # part of an id or order number (K-0045821), not a phone
        groups = [(g.start(), g.end(), g.group()) for g in GROUP_RE.finditer(digi, run.start(), run.end())]
        plus = run.group(1) is not None
        i = 0
        while i < len(groups):
            found = _phone_from(groups, i, plus and i == 0)
            if found is None:
                i += 1
                continue
            j = found
            start = run.start() if plus and i == 0 else groups[i][0]
            if start > 0 and digi[start - 1] == "(":
                start -= 1
            out.append((start, groups[j][1], "phone"))
            i = j + 1
    return out


def _phone_from(groups: list[tuple[int, int, str]], i: int, plus: bool) -> int | None:
    first = groups[i][2]
    if plus:
        if not first.startswith("81"):
            return None
        digits = "0" + first[2:].lstrip("0")
    elif first.startswith("0") and not first.startswith("00"):
        digits = first
    else:
        return None
    best = None
    for j in range(i, len(groups)):
        if j > i:
            digits += groups[j][2]
        if len(digits) > 11:
            break
        if len(digits) >= 10 and (
            j + 1 == len(groups) or len(digits) == 11 or len(digits + groups[j + 1][2]) > 11
        ):
            best = j
    return best


# ------------------------------------------------------------------ postal codes
POSTAL_RE = re.compile(
    rf"(?:〒|郵便番号|ゆうびん番号)(?:は|:|\s)*(\d{{3}}(?:[{H}\sの]|){{1}}\d{{4}})(?!\d)"
    rf"|(?<![\d{H}])(\d{{3}}[{H}]\d{{4}})(?![\d{H}])"
)


def postal_codes(digi: str) -> list[Span]:
    return [(m.start(g), m.end(g), "postal") for m in POSTAL_RE.finditer(digi) for g in (1, 2) if m.group(g)]


# ------------------------------------------------------------------ bank accounts
BANK_RE = re.compile(
    rf"(?:口座番号|口座|普通預金|当座預金|普通|当座|貯蓄)(?:[はがを:\s]|番号)*(\d{{3,4}}(?:\s|[{H}])?\d{{3,4}})(?![\d{H}])"
)


def bank_accounts(digi: str) -> list[Span]:
    """Account numbers after 普通/当座/口座, also written in two groups (1234 567)."""
    return [
        (m.start(1), m.end(1), "bank")
        for m in BANK_RE.finditer(digi)
        if 7 <= sum(c.isdigit() for c in m.group(1)) <= 8
    ]


# ------------------------------------------------------------------ addresses
PLACE_CH = r"[\u4e00-\u9fff\u30a1-\u30fa\u30fcヶケ々]"
PLACE = rf"(?:{PLACE_CH}|(?<={PLACE_CH})[がのノ](?={PLACE_CH})|\d{{1,2}}条(?={PLACE_CH}))"
N = r"\d{1,4}"
HY = rf"\s?[{H}]\s?"
BLOCK = (
    rf"(?:{N}\s?丁目(?:\s?{N}\s?(?:番地?|{HY}|の)?(?:\s?{N}\s?(?:号|番地?)?)?(?:{HY}{N})*)?"
    rf"|{N}\s?丁\s?{N}\s?番地?(?:\s?の?\s?{N}\s?号?)?"
    rf"|{N}\s?番地?\s?の?\s?{N}\s?号?(?:{HY}{N})*"
    rf"|{N}\s?番地"
    rf"|{N}(?:{HY}{N}){{2,}}"
    rf"|{N}(?:\s?の\s?{N}){{2,}}(?:{HY}{N})*"
    rf"|(?P<weak>{N}(?:{HY}|\s?の\s?){N}))"
)
BUILDING_NAME = (
    r"(?:[\u30a1-\u30fa\u30fcA-Za-z・]{2,16}[\u4e00-\u9fff]{0,6}"
    r"|[\u4e00-\u9fff]{1,8}(?:ビル|荘|館|棟|団地|住宅|寮|ハイツ|マンション|タワー|コーポ))"
)
BUILDING = (
    rf"(?:[\s\n]{{0,2}}[(]?{BUILDING_NAME}\s?{N}\s?(?:号室|号|階|F|f)?[)]?"
    rf"|\s?{N}\s?(?:号室|階|F|f)|(?:{HY}{N})?\s(?!188(?!\d)){N}(?![\d{H}.,\u4e00-\u9fff]))"
)
ADDRESS_RE = re.compile(rf"(?P<place>{PLACE}{{1,24}}?)\s?(?P<block>{BLOCK})(?P<bldg>{BUILDING})?(?!\d)")
TOWN_NUMBER_RE = re.compile(
    rf"{PLACE_CH}{{1,8}}[市区]{PLACE_CH}{{1,10}}[町村]{N}(?![\d年月日円万歳%個件人回台本枚時分])"
)
ROOM_RE = re.compile(rf"(?<!\d){N}\s?号室")
NOT_PLACE_END = (
    "番号", "No", "NO", "ID", "コード", "型番", "品番", "型", "第", "電話", "携帯", "TEL", "FAX", "年", "月", "日", "時",
    "分", "円", "万", "歳", "才", "回", "個", "件", "人", "点", "割", "倍", "台", "本", "枚", "約", "計", "合計",
    "受付", "注文", "伝票", "会員", "口座", "普通", "当座", "記号", "証券", "期間", "定価", "税込", "価格", "金額",
    "様", "氏", "殿",
)  # fmt: skip
PLACE_HINT = re.compile(
    r"[都道府県市区町村郡丁字条]|[東西南北]$|駅前$|[台丘原野田川山島沢谷浜崎橋坂宮寺前新岡井江]$"
)


def addresses(digi: str, is_place: object = None) -> list[Span]:
    """Street addresses with or without 市区町村 (see the module docstring)."""
    out: list[Span] = []
    for m in ADDRESS_RE.finditer(digi):
        place, block = m.group("place"), m.group("block")
        if place.endswith(NOT_PLACE_END):
            continue
        first = re.match(r"\d+", block)
        if first and (
            first.group().startswith("0") or len(first.group()) == 4 and first.group()[:2] in ("19", "20")
        ):
            continue  # a phone number (0120-…) or a date (2025-06-12), not a block number
        if m.group("weak") and not (PLACE_HINT.search(place) or (callable(is_place) and is_place(place))):
            continue
        out.append((m.start(), m.end(), "address"))
    out += [(m.start(), m.end(), "address") for m in TOWN_NUMBER_RE.finditer(digi)]
    out += [(m.start(), m.end(), "address") for m in ROOM_RE.finditer(digi)]
    return out


# ------------------------------------------------------------------ birth dates
ERA = r"(?:明治|大正|昭和|平成|令和)"
OLD_ERA = r"(?:明治|大正|昭和)"
ABBR = r"(?:[MTSHRmtshr]\.?\s?)"
DS = r"\s?[./\-・]\s?"
YEAR = rf"(?:{ERA}\s?(?:\d{{1,2}}|元)|{ABBR}(?:\d{{1,2}}|元)|\d{{4}})"
FULL = rf"(?:{YEAR}\s?(?:年\s?(?:の\s?)?\d{{1,2}}\s?(?:月(?:\s?\d{{1,2}}\s?日)?|/\d{{1,2}})|{DS}\d{{1,2}}{DS}\d{{1,2}}(?!\d)))"
DATE = rf"(?:{FULL}|{YEAR}\s?年|\d{{1,2}}\s?月\s?\d{{1,2}}\s?日)"
BIRTH_AFTER_RE = re.compile(
    rf"({DATE})\s?(?:に|の)?\s?(?:生まれ|生|うまれ)(?!活|産|命|徒|地|鮮|前|き|協|保|損|態)"
)
BIRTH_LABEL_RE = re.compile(
    rf"(?:生年月日|誕生日|生まれは|生まれ|うまれ)(?:は|が|:|\s|、|→|-|=|は、)*({DATE})"
)
OLD_ERA_RE = re.compile(
    rf"(?<![A-Za-z])((?:{OLD_ERA}\s?(?:\d{{1,2}}|元)|[MTSmts]\.?\s?\d{{1,2}})\s?(?:年\s?(?:の\s?)?\d{{1,2}}\s?月(?:\s?\d{{1,2}}\s?日)?|{DS}\d{{1,2}}{DS}\d{{1,2}}(?!\d)))"
)


def birth_dates(digi: str) -> list[Span]:
    """Dates of birth (see the module docstring)."""
    return [
        (m.start(1), m.end(1), "birthdate")
        for rx in (BIRTH_AFTER_RE, BIRTH_LABEL_RE, OLD_ERA_RE)
        for m in rx.finditer(digi)
    ]


# ------------------------------------------------------------------ mail addresses
LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
AT = r"(?:\s?(?:@|\(at\)|\[at\]|<at>|\(アット\)|アットマーク|あっとまーく|アット)\s?)"
LABEL = r"[A-Za-z0-9][A-Za-z0-9\-]{0,62}"
DOT = r"(?:\.|\s\.\s?|\(dot\)|\[dot\]|\sdot\s|ドット|どっと)"
EMAIL_RE = re.compile(rf"(?<![A-Za-z0-9._%+\-])({LOCAL}{AT}{LABEL}(?:{DOT}{LABEL})*)", re.I)
BARE_AT_RE = re.compile(rf"(?<![A-Za-z0-9._%+\-])({LOCAL}\sat\s{LABEL}(?:{DOT}{LABEL})*)", re.I)
PROVIDERS = re.compile(
    r"\sat\s(?:gmail|yahoo|docomo|ezweb|icloud|outlook|hotmail|softbank|au|me|live|nifty|ocn|biglobe|so-net|i\.softbank)\b"
    r"|\sat\s\S+(?:\.|\sdot\s|\(dot\))(?:com|jp|net|org|ne|co|or)\b",
    re.I,
)


def emails(norm: str) -> list[Span]:
    """Mail addresses, also written to dodge filters (see the module docstring)."""
    out = [(m.start(1), m.end(1), "email") for m in EMAIL_RE.finditer(norm)]
    out += [
        (m.start(1), m.end(1), "email") for m in BARE_AT_RE.finditer(norm) if PROVIDERS.search(m.group(1))
    ]
    return out
