"""Our own charset layer for Japanese mail: the standard codecs lose characters that CP932 has.

- ``Shift_JIS`` / ``x-sjis`` / ``windows-31j`` labels decode as CP932 (NEC row 13 ``①``, ``№``,
  ``㈱``; NEC-selected and IBM extension kanji ``髙``, ``﨑``).
- ISO-2022-JP decodes as its Microsoft superset (CP50220/CP50221-compatible). Python has no cp50220
  codec, so we use the well-known technique of libiconv's ``CP50221``/``ISO-2022-JP-MS`` and of
  nkf/mb_convert_encoding (``ISO-2022-JP-MS``): every 2-byte JIS X 0208 code (row/cell) of an
  ``ESC $ B`` / ``ESC $ @`` run is turned into its Shift_JIS bytes and decoded as CP932, which maps
  the NEC and IBM rows the plain JIS table lacks. Half-width katakana (``ESC ( I`` or SO/SI) map to
  CP932's single bytes 0xA1–0xDF.
- EUC-JP decodes its 2-byte codes the same way (EUC code − 0x8080 = JIS, then via CP932: the
  cp51932 idea), 0x8E kana as half-width kana, 0x8F codes as JIS X 0212.
- Carrier emoji (Shift_JIS user-defined area, CP932 private use U+E000–U+F8FF) show as ``〓``.
- No label, or an unknown one: ESC sequences → ISO-2022-JP; valid UTF-8 → UTF-8; otherwise CP932
  or EUC-JP, whichever scores better (:func:`guess_japanese`).

Decoding never raises: undecodable bytes become U+FFFD (only for bytes CP932 cannot represent) and
a warning; ESC and other control characters never reach the output.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

GETA = "〓"  # the traditional placeholder for a character that cannot be shown
_ESC = 0x1B

_CP932_LABELS = {
    "shift_jis",
    "shift-jis",
    "sjis",
    "x-sjis",
    "s-jis",
    "shiftjis",
    "ms_kanji",
    "csshiftjis",
    "windows-31j",
    "cswindows31j",
    "cp932",
    "ms932",
    "x-ms-cp932",
    "ibm-943",
    "shift_jis-2004",
    "sjis-open",
    "sjis-win",
    "x-sjis-win",
}
_ISO2022_LABELS = {
    "iso-2022-jp",
    "iso2022-jp",
    "iso2022jp",
    "csiso2022jp",
    "iso-2022-jp-1",
    "iso-2022-jp-2",
    "iso-2022-jp-3",
    "iso-2022-jp-ms",
    "cp50220",
    "cp50221",
    "cp50222",
    "jis",
    "x-jis",
    "jis7",
}
_EUC_LABELS = {
    "euc-jp",
    "eucjp",
    "x-euc-jp",
    "x-eucjp",
    "euc_jp",
    "cseucpkdfmtjapanese",
    "cp51932",
    "eucjp-ms",
    "eucjp-win",
    "euc-jis-2004",
}
_UTF8_LABELS = {"utf-8", "utf8", "unicode-1-1-utf-8", "x-utf-8", "utf-8-sig"}
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "7bit", "8bit", ""}
_ALIASES = {  # labels whose Python codec is a strict subset of what mailers send
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gbk",
    "gb_2312-80": "gbk",
    "x-gbk": "gbk",
    "big5": "cp950",
}

_JIS_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\$\([OPQ]|\([BJI])")


def canonical(label: str | None) -> str | None:
    """Our decoder name for a MIME charset label, or None when unlabelled or unknown.

    Returns ``"cp932"``, ``"iso-2022-jp-ms"``, ``"euc-jp-ms"``, ``"utf-8"``, ``"ascii"`` or a
    Python codec name.
    """
    if label is None:
        return None
    name = label.strip().strip('"').strip("'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: iso-2022-jp*ja
    if name in _CP932_LABELS:
        return "cp932"
    if name in _ISO2022_LABELS:
        return "iso-2022-jp-ms"
    if name in _EUC_LABELS:
        return "euc-jp-ms"
    if name in _UTF8_LABELS:
        return "utf-8"
    if name in _ASCII_LABELS:
        return "ascii"
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode(data: bytes, label: str | None = None) -> tuple[str, list[str]]:
    """Decode ``data`` labelled ``label`` (may be None); returns (text, warnings). Never raises."""
    warnings: list[str] = []
    name = canonical(label)
    if label and name is None:
        guessed = detect(data)
        warnings.append(f"unknown charset {label.strip()[:40]!r}: read as {guessed}")
        name = guessed
    elif name in (None, "ascii") or (name not in ("iso-2022-jp-ms",) and _JIS_ESCAPE.search(data)):
        detected = detect(data)
        if name is not None and detected not in ("ascii", name):
            warnings.append(f"the text is labelled {label!r} but is {detected}: read as {detected}")
        name = detected
    text, bad = _decode_as(data, name)
    if bad:
        warnings.append(f"{bad} byte sequence(s) could not be read as {name} and are shown as \ufffd")
    return clean(text, warnings), warnings


def detect(data: bytes) -> str:
    """Our decoder name for unlabelled bytes: ascii, iso-2022-jp-ms, utf-8, cp932 or euc-jp-ms."""
    if _JIS_ESCAPE.search(data):
        return "iso-2022-jp-ms"
    if not any(b >= 0x80 for b in data):
        return "ascii"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return guess_japanese(data)


def guess_japanese(data: bytes) -> str:
    """CP932 or EUC-JP by score: kana and kanji count for, half-width kana and errors against."""
    scores = {}
    for name in ("cp932", "euc-jp-ms"):
        text, bad = _decode_as(data, name)
        score = 0.0
        for ch in text:
            o = ord(ch)
            if 0x3041 <= o <= 0x30FF:
                score += 2
            elif 0x4E00 <= o <= 0x9FFF:
                score += 1
            elif 0xFF61 <= o <= 0xFF9F:  # half-width kana: EUC-JP misread as CP932 looks like this
                score -= 1.5
            elif 0xE000 <= o <= 0xF8FF:
                score -= 1
        scores[name] = score - 5 * bad
    return "cp932" if scores["cp932"] >= scores["euc-jp-ms"] else "euc-jp-ms"


def clean(text: str, warnings: list[str] | None = None) -> str:
    """Drop ESC and other control characters (keep tab/newline); carrier emoji become ``〓``."""
    out = []
    emoji = 0
    for ch in text:
        o = ord(ch)
        if o < 0x20 and ch not in "\t\n":
            if ch == "\r":
                out.append("\n")
            continue
        if o == 0x7F or 0x80 <= o < 0xA0:
            continue
        if 0xE000 <= o <= 0xF8FF:
            emoji += 1
            out.append(GETA)
            continue
        out.append(ch)
    if emoji and warnings is not None:
        warnings.append(f"{emoji} carrier emoji (絵文字) or private characters are shown as {GETA}")
    return "".join(out)


def _decode_as(data: bytes, name: str) -> tuple[str, int]:
    """(text, number of undecodable sequences) for one of our decoder names."""
    if name == "iso-2022-jp-ms":
        return decode_iso2022jp(data)
    if name == "euc-jp-ms":
        return decode_eucjp(data)
    if name == "cp932":
        return decode_cp932(data)
    if name == "ascii":
        name = "utf-8"  # ascii is a subset; stray 8-bit bytes get counted below
    counter = _Counter()
    try:
        return data.decode(name, errors=counter.name), counter.count
    except LookupError:
        return data.decode("utf-8", errors=counter.name), counter.count


class _Counter:
    """A per-call codec error handler that replaces with U+FFFD and counts."""

    def __init__(self) -> None:
        self.count = 0
        self.name = f"madoguchi-count-{id(self)}"
        codecs.register_error(self.name, self._handle)

    def _handle(self, exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        self.count += 1
        return "\ufffd", exc.end


def decode_cp932(data: bytes) -> tuple[str, int]:
    """CP932 with a JIS X 0213 fallback per undecodable pair (Shift_JIS-2004 mailers)."""
    out: list[str] = []
    bad = 0
    i = 0
    n = len(data)
    while i < n:
        # fast path: the longest strictly decodable run
        try:
            out.append(data[i:].decode("cp932"))
            break
        except UnicodeDecodeError as exc:
            out.append(data[i : i + exc.start].decode("cp932"))
            i += exc.start
        pair = data[i : i + 2]
        try:
            out.append(pair.decode("shift_jis_2004"))
            i += 2
            continue
        except UnicodeDecodeError:
            pass
        bad += 1
        out.append("\ufffd")
        i += 2 if len(pair) == 2 and 0x40 <= pair[1] <= 0xFC and pair[1] != 0x7F else 1
    return "".join(out), bad


def jis_to_sjis(j1: int, j2: int) -> bytes:
    """Shift_JIS bytes of the JIS X 0208 code (j1, j2), both 0x21–0x7E (the textbook formula)."""
    s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
    s2 = j2 + (0x1F if j1 & 1 else 0x7E)
    if s2 >= 0x7F and j1 & 1:
        s2 += 1
    return bytes((s1, s2))


def _jis_pair(j1: int, j2: int) -> tuple[str, bool]:
    """One JIS X 0208 code through CP932 (NEC/IBM rows), then JIS X 0213; (char, ok)."""
    if 0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E:
        try:
            return jis_to_sjis(j1, j2).decode("cp932"), True
        except UnicodeDecodeError:
            pass
        try:
            return bytes((j1 | 0x80, j2 | 0x80)).decode("euc_jis_2004"), True
        except UnicodeDecodeError:
            pass
    return "\ufffd", False


def decode_iso2022jp(data: bytes) -> tuple[str, int]:
    """ISO-2022-JP as CP50220/CP50221 (see the module docstring); tolerant of broken escapes."""
    out: list[str] = []
    bad = 0
    mode = "ascii"  # ascii | roman | jis0208 | kana | jis0212 | jis0213
    shifted = False  # SO … SI half-width kana (CP50221)
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b == _ESC:
            seq = data[i + 1 : i + 4]
            if seq[:2] in (b"$B", b"$@"):
                mode, i = "jis0208", i + 3
            elif seq[:3] == b"$(D":
                mode, i = "jis0212", i + 4
            elif seq[:3] in (b"$(O", b"$(P", b"$(Q"):
                mode, i = "jis0213", i + 4
            elif seq[:2] == b"(B":
                mode, i = "ascii", i + 3
            elif seq[:2] == b"(J":
                mode, i = "roman", i + 3
            elif seq[:2] == b"(I":
                mode, i = "kana", i + 3
            else:  # an unknown escape: drop the ESC, keep going
                i += 1
            continue
        if b == 0x0E:
            shifted, i = True, i + 1
            continue
        if b == 0x0F:
            shifted, i = False, i + 1
            continue
        if b in (0x0A, 0x0D):  # a line end resets to ASCII (RFC 1468); lenient mailers forget
            out.append(chr(b))
            if mode in ("jis0208", "jis0212", "jis0213", "kana"):
                mode = "ascii"
            shifted = False
            i += 1
            continue
        if b >= 0x80:  # raw 8-bit inside ISO-2022-JP: mailers that mix in CP932 (kana, mostly)
            j = i
            while j < n and data[j] >= 0x80:
                j += 1
            text, nbad = decode_cp932(data[i:j])
            out.append(text)
            bad += nbad
            i = j
            continue
        if shifted or mode == "kana":
            if 0x21 <= b <= 0x5F:
                out.append(bytes((b + 0x80,)).decode("cp932"))
            else:
                out.append(chr(b))
            i += 1
            continue
        if mode in ("jis0208", "jis0212", "jis0213"):
            if b < 0x21 or b == 0x7F or i + 1 >= n or not 0x21 <= data[i + 1] <= 0x7E:
                out.append(chr(b) if b == 0x20 else "\ufffd")
                bad += b != 0x20
                i += 1
                continue
            j1, j2 = b, data[i + 1]
            if mode == "jis0208":
                ch, ok = _jis_pair(j1, j2)
            else:
                raw = (
                    bytes((0x8F, j1 | 0x80, j2 | 0x80))
                    if mode == "jis0212"
                    else bytes((j1 | 0x80, j2 | 0x80))
                )
                try:
                    ch, ok = raw.decode("euc_jp" if mode == "jis0212" else "euc_jis_2004"), True
                except UnicodeDecodeError:
                    ch, ok = "\ufffd", False
            out.append(ch)
            bad += not ok
            i += 2
            continue
        if mode == "roman" and b in (0x5C, 0x7E):
            out.append("¥" if b == 0x5C else "‾")
        else:
            out.append(chr(b))
        i += 1
    return "".join(out), bad


def decode_eucjp(data: bytes) -> tuple[str, int]:
    """EUC-JP with NEC specials and IBM extensions (each code decoded through CP932)."""
    out: list[str] = []
    bad = 0
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
        elif b == 0x8E and i + 1 < n and 0xA1 <= data[i + 1] <= 0xDF:
            out.append(data[i + 1 : i + 2].decode("cp932"))
            i += 2
        elif b == 0x8F and i + 2 < n and data[i + 1] >= 0xA1 and data[i + 2] >= 0xA1:
            try:
                out.append(data[i : i + 3].decode("euc_jp"))
            except UnicodeDecodeError:
                try:
                    out.append(data[i : i + 3].decode("euc_jis_2004"))
                except UnicodeDecodeError:
                    out.append("\ufffd")
                    bad += 1
            i += 3
        elif 0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= data[i + 1] <= 0xFE:
            ch, ok = _jis_pair(b - 0x80, data[i + 1] - 0x80)
            out.append(ch)
            bad += not ok
            i += 2
        else:
            out.append("\ufffd")
            bad += 1
            i += 1
    return "".join(out), bad


def encode_iso2022jp_ms(text: str) -> bytes:
    """ISO-2022-JP bytes of ``text`` the way Outlook (CP50220) writes them: CP932 codes as JIS.

    IBM extension kanji (CP932 0xFA–0xFC) are written as their NEC-selected codes (rows 89–92),
    the only form 7-bit JIS can carry; half-width kana become full-width (NFKC), like CP50220.
    Raises UnicodeEncodeError for characters CP932 lacks. Used for test fixtures and benchmarks.
    """
    out = bytearray()
    in_jis = False
    for ch in text:
        if ord(ch) < 0x80:
            if in_jis:
                out += b"\x1b(B"
                in_jis = False
            out.append(ord(ch))
            continue
        if 0xFF61 <= ord(ch) <= 0xFF9F:
            ch = unicodedata.normalize("NFKC", ch)
        sj = ch.encode("cp932")
        if sj[0] >= 0xFA:
            sj = _NEC_SELECTED.get(ch, sj)
        j = _sjis_to_jis(sj)
        if not in_jis:
            out += b"\x1b$B"
            in_jis = True
        out += bytes(j)
    if in_jis:
        out += b"\x1b(B"
    return bytes(out)


def _sjis_to_jis(sj: bytes) -> tuple[int, int]:
    s1, s2 = sj[0], sj[1]
    row = (s1 - 0x70 if s1 <= 0x9F else s1 - 0xB0) * 2
    if s2 < 0x9F:
        row -= 1
        cell = s2 - 0x1F - (1 if s2 >= 0x80 else 0)
    else:
        cell = s2 - 0x7E
    return row, cell


def _nec_selected() -> dict[str, bytes]:
    table: dict[str, bytes] = {}
    for lead in (0xED, 0xEE):
        for trail in range(0x40, 0xFD):
            if trail == 0x7F:
                continue
            try:
                table[bytes((lead, trail)).decode("cp932")] = bytes((lead, trail))
            except UnicodeDecodeError:
                continue
    return table


_NEC_SELECTED = _nec_selected()
