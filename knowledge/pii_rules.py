"""Context rules for PII masking, written the way a privacy officer states them (used by
knowledge.pii on the NFKC text; each rule returns (start, end, type) tuples).

* LINE ids: an ASCII handle right after "LINE"/"ライン" (with ID/アカウント/は/:/brackets in
  between), or after "ID" when LINE was mentioned just before, or "@handle" near LINE;
* dates of birth: a date (era or western, arabic or kanji numerals, day or month optional)
  followed by 生/生まれ, or after 生年月日/誕生日; a full date in brackets right after a name;
* bank accounts: ゆうちょ 記号 + 番号 (12345-67890123);
* person names: after 名義/名義人/口座名義/受取人/氏名/名前 (kana or romaji, with a space between
  family and given name); the account holder written right after an account number; the person
  in "私は〇〇です", "妻は〇〇", "娘(〇〇、", "〇〇と申します/って言います"; an e-mail signature
  line "〇〇より". "娘(〇〇、<age, grade or date>" is a name even when 〇〇 is a hiragana common noun
  (ひなた, さくら, みなと): that bracket is how people introduce a family member.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Span = tuple[int, int, str]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOT_NAMES = frozenset(
    _words(
        "お客 客 皆 皆さん 奥 旦那 担当 担当者 相談者 相談員 契約者 お母 お父 息子 娘 業者 会社 店員 社長 先生"
        " センター 消費生活センター 事業者 販売員 営業 営業マン 本人 家族 祖母 祖父 母 父 兄 姉 弟 妹 夫 妻"
        " お嬢 王 神 私 わたし 主人"
    )
)
NOT_HONORED = frozenset(  # words that take さん/様 but are not names (大家さん, お医者さん)
    _words(
        "大家 医者 運転手 近所 お隣 友達 友人 知人 先輩 後輩 同僚 上司 部下 親戚 叔母 叔父 伯母 伯父 彼氏 彼女"
        " 皆様 各位 奥様 奥 嫁 婿 お孫 お子 子供 赤 母 父 息子 娘 兄 姉 弟 妹 孫 夫 妻 本人 先方 相手 皆 神 仏"
        " 警察 役所 市役所 区役所 お役所 郵便 宅配 配達 大工 職人 外国 日本 中国 韓国 米国 皆皆 各 貴 殿"
    )
)
BUSINESS_PREFIX = _words("株式会社 有限会社 合同会社 (株) (有) 合資会社 一般社団法人 医療法人")
BUSINESS_SUFFIX = _words(
    "工務店 商事 商店 株式会社 不動産 建設 産業 工業 電機 銀行 証券 興業 物産 事務所 クリニック 病院 医院"
    " 歯科 商会 ホーム 住宅 電器 薬局 会社 社 店 屋 堂 組 化粧品 通販"
)

BUSINESS_WORDS = _words(
    "自動車 製薬 住建 住設 設備 塗装 運輸 物流 急便 運送 製作所 酒造 食品 ガス 電力 保険 生命 損保 信金 信用金庫"
    " 郵便 グループ ホールディングス 総研 企画 法律事務所 整骨院 接骨院 鍼灸院 眼科 内科 皮膚科 美容外科 司法書士"
    " 行政書士 税理士 エステ サロン ジム スクール 学院 塾 リフォーム ハウス ホーム 不動産 建設 工務店 商事 商店 電機"
    " 電器 クリニック 病院 医院 歯科 薬局 通販 産業 工業 興業 物産 商会 銀行 証券"
)
_BIZ_CH = r"[\u4e00-\u9fff\u30a1-\u30fa\u30fcA-Za-z0-9&・ー]"
BUSINESS_RE = re.compile(
    rf"(?:株式会社|有限会社|合同会社|合資会社|一般社団法人|一般財団法人|医療法人|\((?:株|有)\))\s?{_BIZ_CH}{{1,20}}"
    rf"|{_BIZ_CH}{{1,20}}?\s?(?:株式会社|有限会社|\((?:株|有)\))"
    rf"|[\u4e00-\u9fff\u30a1-\u30fa\u30fc]{{1,8}}?(?:{'|'.join(BUSINESS_WORDS)})"
    rf"|(?<![\u3041-\u3093])[\u3041-\u3093]{{2,6}}(?:{'|'.join(BUSINESS_WORDS)})"
)
HANDLE = r"@?([A-Za-z0-9][A-Za-z0-9._\-]{2,29})"
LINE_WORD = r"(?:LINE|ライン|line)"
LINE_DIRECT_RE = re.compile(
    rf"{LINE_WORD}(?:の|\s|ID|id|アカウント|ネーム|名|は|が|:|=|\(|「|『|\")*{HANDLE}(?![A-Za-z0-9@.])"
)
LINE_LATER_ID_RE = re.compile(rf"{LINE_WORD}[^\n]{{0,30}}?(?:ID|id)(?:は|が|:|=|\s|\(|「)*{HANDLE}")
LINE_NOT_IDS = frozenset({"pay", "payで", "music", "id", "http", "https", "www", "line"})

NUM = r"(?:[0-9]{1,4}|[〇一二三四五六七八九十百元]{1,4})"
ERA = r"(?:明治|大正|昭和|平成|令和)"
ERA_ABBR = r"(?:[MTSHR]\.?\s?)"
DATE_FLEX = (
    rf"(?:(?:{ERA}\s?{NUM}|[0-9]{{4}})\s?年(?:\s?{NUM}\s?月(?:\s?{NUM}\s?日)?)?"
    rf"|(?:[0-9]{{4}}|{ERA_ABBR}[0-9]{{1,2}})[/.\-][0-9]{{1,2}}(?:[/.\-][0-9]{{1,2}})?)"
)
BIRTH_AFTER_RE = re.compile(rf"({DATE_FLEX})\s?(?:生まれ|生)(?!活|産|命|徒|地|鮮|前|き)")
BIRTH_LABEL_RE = re.compile(rf"(?:生年月日|誕生日|生まれ)(?:は|が|:|\s|、)*({DATE_FLEX})")
FULL_DATE = (
    rf"(?:{ERA}\s?{NUM}\s?年\s?{NUM}\s?月\s?{NUM}\s?日|[0-9]{{4}}[/.\-][0-9]{{1,2}}[/.\-][0-9]{{1,2}}"
    rf"|{ERA_ABBR}[0-9]{{1,2}}\.[0-9]{{1,2}}\.[0-9]{{1,2}})"
)
BRACKET_DATE_RE = re.compile(rf"\s?\(({FULL_DATE})")
YUCHO_RE = re.compile(r"記号(?:番号)?(?:は|:|\s)*([0-9]{5}[\-\s]?[0-9]{1,8})(?![0-9])")

JNAME = r"[\u4e00-\u9fff\u30a1-\u30fa\u30fc々]{1,6}"
NAME2 = rf"{JNAME}(?:\s{JNAME})?"
ROMAJI = r"[A-Z][A-Za-z]{1,15}(?:\s[A-Z][A-Za-z]{1,15}){1,2}"
LABEL_NAME_RE = re.compile(
    rf"(?:名義人?|口座名義|受取人|氏名|お名前|名前)(?:は|:|\s)*({ROMAJI}|[\u30a1-\u30fa\u30fc]{{1,8}}(?:\s[\u30a1-\u30fa\u30fc]{{1,8}})?)"
)
HOLDER_RE = re.compile(r"\s*([\u30a1-\u30fa\u30fc]{1,8}(?:\s[\u30a1-\u30fa\u30fc]{1,8})?)")
KIN = r"(?:私|わたし|妻|夫|主人|娘|息子|母|父|祖母|祖父|兄|姉|弟|妹|長男|長女|次男|次女|孫)"
KIN_NAME_RE = re.compile(
    rf"{KIN}(?:の名前)?(?:は|:|\(|、)\s*([\u4e00-\u9fff\u3041-\u3093\u30a1-\u30fa\u30fc]{{1,5}}?)(?=[、,)]|です|でした|と申|。)"
)
AGE_OR_DATE = rf"(?:[0-9]|{ERA}|小学|中学|高校|大学|高[0-9]|中[0-9]|小[0-9])"
KIN_BRACKET_RE = re.compile(
    rf"{KIN}\(\s*([\u4e00-\u9fff\u3041-\u3093\u30a1-\u30fa\u30fc]{{1,6}}?)\s*[、,]\s*{AGE_OR_DATE}"
)
HIRAGANA_NAME_RE = re.compile(r"[\u3041-\u3093\u30fc]{2,5}")
SELF_INTRO_RE = re.compile(
    r"(?<![\u4e00-\u9fff\u30a1-\u30fa\u30fc々])([\u4e00-\u9fff\u30a1-\u30fa\u30fc]{1,6}(?:\s[\u4e00-\u9fff\u30a1-\u30fa\u30fc]{1,6})?)\s?(?:と申します|と申す|って言います|と言います|といいます|っていいます)"
)
SIGNATURE_RE = re.compile(rf"(?m)^\s*({NAME2})\s?より\s*$")
NOT_CARD_CTX = re.compile(r"(?:注文|伝票|受付|予約|問い?合わせ|追跡|お問合せ|管理|商品)(?:番号|No|NO|ID)")
ROLE_ENDINGS = (
    "員",
    "者",
    "生",
    "人",
    "業",
    "職",
    "婦",
    "師",
    "士",
    "長",
    "社",
    "店",
    "部",
    "課",
    "係",
    "所",
)


def line_ids(norm: str) -> list[Span]:
    """LINE handles (see the module docstring)."""
    out: list[Span] = []
    for rx in (LINE_DIRECT_RE, LINE_LATER_ID_RE):
        for m in rx.finditer(norm):
            if m.group(1).lower() not in LINE_NOT_IDS and not m.group(1).isdigit():
                start = m.start(1) - (1 if norm[m.start(1) - 1] == "@" else 0)
                out.append((start, m.end(1), "line_id"))
    return out


def birthdates(norm: str) -> list[Span]:
    """Dates followed by 生/生まれ or after 生年月日/誕生日."""
    return [
        (m.start(1), m.end(1), "birthdate")
        for rx in (BIRTH_AFTER_RE, BIRTH_LABEL_RE)
        for m in rx.finditer(norm)
    ]


def bank_accounts(norm: str) -> list[Span]:
    """ゆうちょ 記号-番号."""
    return [(m.start(1), m.end(1), "bank") for m in YUCHO_RE.finditer(norm)]


ROLE_NAME_RE = re.compile(
    r"(?:担当|担当者|相談者|契約者|名義人?)(?:の|は|:|\s)*([\u4e00-\u9fff]{1,4}|[\u30a1-\u30fa\u30fc]{2,8})"
    r"(?=\(|さん|様|さま|氏|、|。|が|は|です|と申|\s|$)"
)


def names(norm: str, is_common_word: Callable[[str], bool]) -> list[Span]:
    """Names in label, kin, role (担当〇〇), self-introduction and signature contexts."""
    out: list[Span] = [(m.start(1), m.end(1), "name") for m in LABEL_NAME_RE.finditer(norm)]
    for rx in (KIN_NAME_RE, SELF_INTRO_RE, SIGNATURE_RE, ROLE_NAME_RE):
        for m in rx.finditer(norm):
            cand = m.group(1).strip()
            if cand and not cand.endswith(ROLE_ENDINGS) and not is_common_word(cand):
                out.append((m.start(1), m.end(1), "name"))
    for m in KIN_BRACKET_RE.finditer(norm):
        cand = m.group(1)
        if HIRAGANA_NAME_RE.fullmatch(cand) or not is_common_word(cand) and not cand.endswith(ROLE_ENDINGS):
            out.append((m.start(1), m.end(1), "name"))
    return out


def following(norm: str, spans: Sequence[Span]) -> list[Span]:
    """Account holders written right after an account number; birth dates in brackets after a name."""
    out: list[Span] = []
    for start, end, kind in spans:
        del start
        if kind == "bank":
            m = HOLDER_RE.match(norm, end)
            if m and len(m.group(1).replace(" ", "")) >= 2:
                out.append((m.start(1), m.end(1), "name"))
        elif kind == "name":
            m = BRACKET_DATE_RE.match(norm, end)
            if m:
                out.append((m.start(1), m.end(1), "birthdate"))
    return out


def business_names(norm: str) -> list[Span]:
    """Business names (株式会社〇〇, 〇〇(株), 〇〇工務店, 佐藤製薬): a person name inside one is kept."""
    return [(m.start(), m.end(), "business") for m in BUSINESS_RE.finditer(norm)]
