"""Prefill a consultation record from the conversation: each field with a confidence and its words.

Facts (amounts, dates, 書面, business, age, occupation, products) come from what the consumer wrote
and from the counselor's phone memo before its 「→」 (the memo convention: facts → action); the
処理結果 and an expert's naming of the 販売購入形態 come from the counselor's own replies and the
memo after 「→」. Everything is a suggestion: crm stores a value only when a counselor accepts it.

Pure: no database, no I/O beyond the cue files read once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from config.clock import jst_date
from knowledge.accident import detect_serious_accident
from knowledge.categories import vocabulary
from knowledge.record_fill.cues import Cues, load_cues
from knowledge.record_fill.dates import SAME_DAY, DateMention, find_dates
from knowledge.record_fill.numbers import Amount, find_amounts
from knowledge.text import DATA_DIR

FIELDS = (
    "contract_amount",
    "paid_amount",
    "contract_date",
    "payment_date",
    "sales_method",
    "product_category",
    "content_keywords",
    "business_name",
    "age_band",
    "occupation",
    "document_received",
    "document_date",
    "outcome",
    "serious_accident",
)
SURROGATE = re.compile("[\ud800-\udfff]")  # mis-encoded input: never passed on to the analyzers
SENTENCE = re.compile(r"[^。！？!?\n]+")
CLAUSE = re.compile(r"(?:、|,(?!\d{3}))")  # a comma inside 120,000 is not a clause break
ZERO_PAID = re.compile(
    r"まだ(?:1円も|一円も|一銭も)?[^。、]{0,6}?(?:払|支払|振り?込|引き落と)[^。、]{0,6}?(?:ない|なし|ません)"
    r"|支払い(?:は)?なし|(?:払|支払)って(?:い)?ない|引き落とされて(?:い)?ない|(?:1|一)円も払"
)
PAID = re.compile(
    r"払っ(?:た|て|ちゃ)|払いました|払い済|支払(?:った|い済|いました|っ)|全額[^。、]{0,10}?(?:払|支払)"
    r"|振り?込(?:んだ|みました|んで|み済|済)|引き落とされ(?:た|ました)|頭金|手付金|内金"
)
TOTAL = re.compile(r"合計|計(?=\d|[一二三四五六七八九十])|全部で|総額")
FULL = re.compile(r"全額")
NOT_THE_PRICE = re.compile(r"はず|見積|相場|報酬|高いって|高いと|差額|景品|稼げ|儲か|月収")
MONTHLY = re.compile(r"(?:月額|月々|毎月|月|年収)[\s約]*$")
CONTRACT_AMOUNT_CUE = re.compile(
    r"契約(?!書)|代金|金額|値段|請求|コース|ローン|売っ|購入|買|セット|会費|プラン|税込|料金|言われ|費用"
)
CONTRACT_DATE_CUE = re.compile(
    r"契約(?!書)|申し?込|購入|買っ|買い(?!取業)|買った|頼ん|注文|課金|登録|売っ|買い取|入会|加入|ローンを?組"
)
DOC_WORD = re.compile(r"書面|契約書|書類|控え|申込書|申し込み書|クーリング・?オフの(?:紙|用紙)")
DOC_GOT = re.compile(r"もら|貰|受領|受け?取|届|あり|交付|渡さ|付\)")
DOC_NEG = re.compile(
    r"(?:書面|契約書|書類|控え)[^。]{0,15}?(?:なし|ない|ません|なかった)|(?:何も|なにも)(?:もら|受け取)"
)
EXPERT_METHOD = {
    "訪問販売": "訪問販売",
    "電話勧誘販売": "電話勧誘販売",
    "通信販売": "通信販売",
    "連鎖販売取引": "マルチ・マルチまがい取引",
    "マルチ": "マルチ・マルチまがい取引",
    "訪問購入": "訪問購入",
}
EXPERT = re.compile(
    r"(訪問販売|電話勧誘販売|通信販売|連鎖販売取引|訪問購入)(?:に(?:あた|該当)|なので|です|、|の可能性)"
)
AGE = re.compile(r"(\d{1,3})\s*(?:代|歳|才)")
COMPANY = re.compile(r"(株式会社|有限会社|合同会社|\(株\)|\(有\)|㈱|㈲)\s*([^\s、。「」():]{1,24})")
COMPANY_AFTER = re.compile(r"[^\s、。「」():はがをにで]{2,24}(?:株式会社|\(株\))")
STOP = r"(?=です|でした|って|という|と(?:いう|言|申)|から|に|へ|が|を|で(?!ん)|の(?:会社|業者|お店)|、|。|\s|$|」|\)|（)"


@dataclass(frozen=True)
class ConversationMessage:
    """One message of the conversation: ``role`` consumer | counselor | note (a phone memo)."""

    role: str
    text: str
    at: datetime
    ref: str = ""


@dataclass(frozen=True)
class FieldSuggestion:
    """A prefilled value, how sure we are (0..1), the words it came from and their message."""

    field: str
    value: Any
    confidence: float
    source: str
    ref: str = ""


@dataclass
class _Sentence:
    text: str
    day: date
    ref: str
    facts: bool  # consumer or memo facts (else: the counselor's words)
    dates: list[DateMention] = field(default_factory=list)


def _sentences(messages: Sequence[ConversationMessage]) -> list[_Sentence]:
    out: list[_Sentence] = []
    for m in messages:
        text = SURROGATE.sub("\ufffd", unicodedata.normalize("NFKC", m.text or ""))
        day = jst_date(m.at)
        parts = [(text, m.role != "counselor")]
        if m.role == "note" and "→" in text:
            head, tail = text.split("→", 1)
            parts = [(head, True), (tail, False)]
        for part, facts in parts:
            for s in SENTENCE.findall(part):
                if s.strip():
                    out.append(_Sentence(s.strip(), day, m.ref, facts))
    return out


def prefill_record(
    messages: Sequence[ConversationMessage], *, cues: Cues | None = None
) -> dict[str, FieldSuggestion]:
    """Suggestions for the record's fields from the conversation, keyed by field (absent: nothing found)."""
    cues = cues or load_cues()
    sentences = _sentences(messages)
    facts = [s for s in sentences if s.facts]
    advice = [s for s in sentences if not s.facts]
    out: dict[str, FieldSuggestion] = {}
    for suggestion in (
        *_amounts(facts),
        *_dates(facts),
        _sales_method(facts, advice, cues),
        _product(facts, cues),
        _keywords(sentences),
        _business(facts, cues),
        _age_band(facts, cues),
        _occupation(facts, cues),
        _outcome(advice, cues),
        _serious(facts),
    ):
        if suggestion is not None:
            out[suggestion.field] = suggestion
    return out


# --- amounts ------------------------------------------------------------------------------------


def _amounts(facts: list[_Sentence]) -> list[FieldSuggestion]:
    strong: list[tuple[Amount, _Sentence]] = []
    weak: list[tuple[Amount, _Sentence]] = []
    paid: dict[int, tuple[Amount, _Sentence]] = {}
    totals: list[tuple[Amount, _Sentence]] = []
    zero: _Sentence | None = None
    full: _Sentence | None = None
    for s in facts:
        last_amount: Amount | None = None
        for clause in CLAUSE.split(s.text):
            if ZERO_PAID.search(clause):
                zero = zero or s
                continue
            found = [a for a in find_amounts(clause) if not MONTHLY.search(clause[: a.start])]
            if NOT_THE_PRICE.search(clause):
                found = []
            is_paid = bool(PAID.search(clause))
            if FULL.search(clause) and is_paid:
                full = full or s
            if is_paid and not found and last_amount is not None:
                paid.setdefault(last_amount.yen, (last_amount, s))
            for a in found:
                if is_paid:
                    paid.setdefault(a.yen, (a, s))
                    if TOTAL.search(clause):
                        totals.append((a, s))
                elif CONTRACT_AMOUNT_CUE.search(clause):
                    strong.append((a, s))
                else:
                    weak.append((a, s))
                last_amount = a
    out: list[FieldSuggestion] = []
    contract: tuple[Amount, _Sentence, float] | None = None
    for group, conf in ((strong, 0.85), (weak, 0.6)):
        if group:
            a, s = max(group, key=lambda p: p[0].yen)
            contract = (a, s, conf)
            break
    paid_total = sum(paid)
    if totals and (contract is None or max(t[0].yen for t in totals) > contract[0].yen):
        a, s = max(totals, key=lambda p: p[0].yen)
        contract = (a, s, 0.7)
    if contract is None and paid:
        a, s = max(paid.values(), key=lambda p: p[0].yen)
        contract = (a, s, 0.55)
    if contract is not None:
        a, s, conf = contract
        out.append(FieldSuggestion("contract_amount", a.yen, conf, s.text, s.ref))
    if paid:
        first = next(iter(paid.values()))
        words = "、".join(p[0].text for p in paid.values())
        out.append(
            FieldSuggestion("paid_amount", paid_total, 0.8, f"{words} ({first[1].text})", first[1].ref)
        )
    elif full is not None and contract is not None:
        out.append(FieldSuggestion("paid_amount", contract[0].yen, 0.7, full.text, full.ref))
    elif zero is not None:
        out.append(FieldSuggestion("paid_amount", 0, 0.8, zero.text, zero.ref))
    return out


# --- dates --------------------------------------------------------------------------------------


def _roles(s: _Sentence, mention: DateMention, nxt: int) -> set[str]:
    after = s.text[mention.end : nxt]
    roles = set()
    if CONTRACT_DATE_CUE.search(after):
        roles.add("contract_date")
    if PAID.search(after):
        roles.add("payment_date")
    if roles:
        return roles
    before = s.text[: mention.start]
    hits = [(m.end(), "contract_date") for m in CONTRACT_DATE_CUE.finditer(before)]
    hits += [(m.end(), "payment_date") for m in PAID.finditer(before)]
    return {max(hits)[1]} if hits else set()


def _is_document_sentence(text: str) -> bool:
    return bool(DOC_WORD.search(text) and DOC_GOT.search(text) and not DOC_NEG.search(text))


def _dates(facts: list[_Sentence]) -> list[FieldSuggestion]:
    found: dict[str, tuple[str, _Sentence, DateMention]] = {}
    pending: tuple[set[str], _Sentence] | None = None  # a sentence with a cue and no date (「…契約。10/4。」)
    for s in facts:
        mentions = find_dates(s.text, s.day)
        has_cue = bool(CONTRACT_DATE_CUE.search(s.text) or PAID.search(s.text))
        if _is_document_sentence(s.text):
            for mention in mentions:
                found.setdefault("document_date", (mention.value, s, mention))
            pending = None
            continue
        if not mentions:
            if has_cue:
                roles = {"contract_date"} if CONTRACT_DATE_CUE.search(s.text) else {"payment_date"}
                pending = (roles, s)
            continue
        for i, mention in enumerate(mentions):
            nxt = mentions[i + 1].start if i + 1 < len(mentions) else len(s.text)
            roles = _roles(s, mention, nxt)
            if not roles and not has_cue and pending is not None:
                roles = pending[0]
            for role in roles:
                found.setdefault(role, (mention.value, s, mention))
        pending = None
    contract = found.get("contract_date")
    out: list[FieldSuggestion] = []
    for role in ("contract_date", "payment_date", "document_date"):
        if role not in found:
            continue
        value, s, mention = found[role]
        if value == SAME_DAY:
            if role == "contract_date" or contract is None or contract[0] == SAME_DAY:
                continue
            value = contract[0]
        conf = 0.85 if len(value) == 10 else 0.6
        out.append(FieldSuggestion(role, value, conf, f"{mention.text} ({s.text})", s.ref))
    doc = _document_received(facts)
    if doc is not None:
        out.append(doc)
    return out


def _document_received(facts: list[_Sentence]) -> FieldSuggestion | None:
    for s in facts:
        if DOC_WORD.search(s.text) and DOC_NEG.search(s.text):
            return FieldSuggestion("document_received", False, 0.75, s.text, s.ref)
        if _is_document_sentence(s.text):
            return FieldSuggestion("document_received", True, 0.8, s.text, s.ref)
    return None


# --- labels and attributes ----------------------------------------------------------------------


def _first(sentences: list[_Sentence], pattern: re.Pattern[str]) -> tuple[_Sentence, re.Match[str]] | None:
    for s in sentences:
        m = pattern.search(s.text)
        if m:
            return s, m
    return None


def _sales_method(facts: list[_Sentence], advice: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    hit = _first(advice, EXPERT)
    if hit:
        s, m = hit
        return FieldSuggestion("sales_method", EXPERT_METHOD[m.group(1)], 0.9, s.text, s.ref)
    for label, pattern in cues.sales_method:
        hit = _first(facts, pattern)
        if hit:
            s, m = hit
            return FieldSuggestion("sales_method", label, 0.7, f"{m.group(0)} ({s.text})", s.ref)
    return None


@lru_cache(maxsize=1)
def _prefill_products() -> dict[str, list[str]]:
    """label → keywords of the prefill's own 商品・役務 table (not the suggestion lexicon)."""
    raw = json.loads((DATA_DIR / "record_fill_product_categories.json").read_text(encoding="utf-8"))
    return {label: list(v["keywords"]) for label, v in raw["labels"].items()}


def _product(facts: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    text = "。".join(s.text for s in facts)
    scores: list[tuple[float, int, str, list[str]]] = []
    specific = _prefill_products()
    for rank, (label, keywords) in enumerate([*specific.items(), *cues.product_extra.items()]):
        words = [kw for kw in keywords if unicodedata.normalize("NFKC", kw) in text]
        if words:  # each mention counts; a means of payment (ローン) is weak evidence of the product
            weight = sum(
                text.count(unicodedata.normalize("NFKC", kw))
                * (0.5 if kw in ("ローン", "キャッシング") else 1.0)
                for kw in words
            )
            scores.append((weight, -rank, label, words))
    if not scores:
        return None
    weight, _, label, words = max(scores)
    conf = round(min(0.9, 0.5 + 0.15 * weight), 2)
    return FieldSuggestion("product_category", label, conf, "、".join(words))


def _keywords(sentences: list[_Sentence]) -> FieldSuggestion | None:
    text = "。".join(s.text for s in sentences)
    hits = []
    for label, keywords in vocabulary("content_keywords").items():
        words = [kw for kw in keywords if unicodedata.normalize("NFKC", kw) in text]
        if words and label != "高額":
            hits.append((len(words), label, words))
    if not hits:
        return None
    hits.sort(key=lambda h: -h[0])
    chosen = hits[:3]
    source = "; ".join(f"{label}: {'、'.join(words)}" for _, label, words in chosen)
    return FieldSuggestion("content_keywords", [label for _, label, _ in chosen], 0.5, source)


def _company_name(pattern: re.Pattern[str], m: re.Match[str]) -> str:
    if pattern is COMPANY:  # 「(株)ドリーム寝具です」: the form written out, the name up to the particle
        form = {"(株)": "株式会社", "㈱": "株式会社", "(有)": "有限会社", "㈲": "有限会社"}.get(
            m.group(1), m.group(1)
        )
        return form + re.split(STOP, m.group(2).strip())[0]
    if pattern is COMPANY_AFTER:
        return m.group(0).replace("(株)", "株式会社")
    return m.group(1).strip()


def _business(facts: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    labelled = re.compile(
        rf"(?:{cues.business_labels})(?:\s*(?:は|:|名は)\s*「?|\s+「?|「)([^\s、。「」]{{2,30}}?)」?{STOP}"
    )
    for pattern, conf in ((COMPANY, 0.85), (COMPANY_AFTER, 0.8), (labelled, 0.7)):
        for s in facts:
            for m in pattern.finditer(s.text):
                name = _company_name(pattern, m)
                if len(name) < 2 or name in ("株式会社", "有限会社", "合同会社"):
                    continue
                if any(bad in name for bad in cues.business_not_names):
                    continue
                return FieldSuggestion("business_name", name, conf, s.text, s.ref)
    return None


def _band(age: int) -> str:
    if age < 20:
        return "20歳未満"
    if age >= 70:
        return "70歳以上"
    return f"{age // 10 * 10}歳代"


def _age_band(facts: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    for s in facts:
        m = AGE.search(s.text)
        if m and 0 < int(m.group(1)) < 120:
            return FieldSuggestion("age_band", _band(int(m.group(1))), 0.85, m.group(0), s.ref)
        m2 = cues.minor.search(s.text)
        if m2:
            return FieldSuggestion("age_band", "20歳未満", 0.7, m2.group(0), s.ref)
    return None


def _occupation(facts: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    for s in facts:
        for label, pattern in cues.occupation:
            m = pattern.search(s.text)
            if m:
                return FieldSuggestion("occupation", label, 0.75, m.group(0), s.ref)
    return None


def _outcome(advice: list[_Sentence], cues: Cues) -> FieldSuggestion | None:
    text = "。".join(s.text for s in advice)
    for label, pattern in cues.outcome:
        m = pattern.search(text)
        if m:
            if label is None:
                return None  # あっせん in progress: its result is not known yet
            return FieldSuggestion("outcome", label, 0.6, m.group(0))
    return None


def _serious(facts: list[_Sentence]) -> FieldSuggestion | None:
    reasons = detect_serious_accident("。".join(s.text for s in facts))
    if not reasons:
        return None
    return FieldSuggestion("serious_accident", True, 0.7, "; ".join(reasons))
