"""The one place that builds what a case looks like outside its handling center.

Whitelist, not blacklist: a cross-center view (similar cases, search hits on another center's documents,
the index of resolved tickets, the PIO-NET-style CSV export) is built only from

* attribute fields named in ``VOCAB_FIELDS`` whose value is in its controlled vocabulary
  (knowledge/data/*.json; compared after NFKC) — any other value is dropped;
* ``content_keywords`` and ``outcome``: vocabulary values as they are, anything else as PII-masked text;
* ``region`` coarsened to 都道府県 + 市区町村 (no 町名・番地);
* numbers (amounts) and booleans as they are;
* every other text (subject, summary, body, notes, free-text labels) through ``knowledge.pii.mask``.

No raw field is ever copied: a field that is not named here does not cross the boundary.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge.pii import mask
from knowledge.text import DATA_DIR

VOCAB_FIELDS = (
    "product_category",
    "product_category_top",
    "sales_method",
    "age_band",
    "gender",
    "occupation",
)
MASKED_LABEL_FIELDS = ("content_keywords", "outcome")
LABEL_FIELDS = ("product_category", "product_category_top", "sales_method", "content_keywords", "outcome")
MAX_KEYWORDS = 20
PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
_P = r"[^\d\s、,。・()（）「」-]"  # a place-name character (no digits, spaces or punctuation)
_REGION_RE = re.compile(
    rf"^(?:{'|'.join(PREFECTURES)})?(?:{_P}{{1,6}}?市(?:{_P}{{1,4}}?区)?|{_P}{{1,5}}?郡{_P}{{1,5}}?[町村]|{_P}{{1,5}}?[区町村])?"
)


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, frozenset[str]]:
    """field → the values allowed to cross a center boundary (NFKC), from knowledge/data/*.json."""

    def labels(name: str) -> list[str]:
        return list(json.loads((DATA_DIR / name).read_text(encoding="utf-8"))["labels"])

    products = json.loads((DATA_DIR / "product_categories.json").read_text(encoding="utf-8"))
    attrs = json.loads((DATA_DIR / "shared_attributes.json").read_text(encoding="utf-8"))
    raw: dict[str, list[str]] = {
        "product_category": [*products["labels"], *products["top_levels"]],
        "product_category_top": list(products["top_levels"]),
        "sales_method": labels("sales_methods.json"),
        "content_keywords": labels("content_keywords.json"),
        **{k: list(v) for k, v in attrs.items() if not k.startswith("_")},
    }
    return {k: frozenset(_nfkc(v) for v in vs) for k, vs in raw.items()}


def vocab_value(field: str, value: Any) -> str | None:
    """``value`` (NFKC) if it is in ``field``'s vocabulary, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = _nfkc(value)
    return v if v in vocabularies().get(field, frozenset()) else None


def shareable_keywords(value: Any) -> list[str]:
    """内容キーワード: vocabulary labels kept, free-text keywords PII-masked, empty ones dropped."""
    items = value if isinstance(value, list | tuple) else [value] if isinstance(value, str) else []
    out: list[str] = []
    for item in items[:MAX_KEYWORDS]:
        if not isinstance(item, str) or not item.strip():
            continue
        kept = vocab_value("content_keywords", item)
        text = kept if kept is not None else mask(item.strip())
        if text not in out:
            out.append(text)
    return out


def shareable_outcome(value: Any) -> str | None:
    """処理結果: a vocabulary value as it is, anything else PII-masked (None if empty)."""
    return shareable_open_label("outcome", value)


def shareable_open_label(field: str, value: Any) -> str | None:
    """A label whose vocabulary is open (処理結果, 商品・役務: centers use finer categories than
    the bundled list): a vocabulary value as it is, anything else PII-masked (None if empty)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return vocab_value(field, value) or mask(value.strip())[:64]


def shareable_region(value: Any) -> str:
    """地域 coarsened to 都道府県 + 市区町村 (never a 町名 or 番地); '' if nothing recognisable."""
    if not isinstance(value, str):
        return ""
    m = _REGION_RE.match(_nfkc(value).replace(" ", ""))
    return (m.group(0) if m else "")[:32]


def shareable_labels(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The PIO-NET labels of a case that may be shown to another center (whitelisted, checked)."""
    out: dict[str, Any] = {}
    for f in ("product_category_top", "sales_method"):  # closed lists: a value outside is dropped
        v = vocab_value(f, fields.get(f))
        if v is not None:
            out[f] = v
    product = shareable_open_label("product_category", fields.get("product_category"))
    if product is not None:
        out["product_category"] = product
    kws = shareable_keywords(fields.get("content_keywords"))
    if kws:
        out["content_keywords"] = kws
    outcome = shareable_outcome(fields.get("outcome"))
    if outcome is not None:
        out["outcome"] = outcome
    return out


@dataclass(frozen=True)
class SharedCase:
    """A case as another center (or the export) may see it. Built only by ``shareable_case``."""

    id: int | None
    channel: str
    subject: str
    summary: str
    labels: dict[str, Any]
    age_band: str | None
    gender: str | None
    occupation: str | None
    region: str
    contract_amount: int | None
    paid_amount: int | None
    serious_accident: bool


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shareable_case(ticket: Any, contact: Any | None = None) -> SharedCase:
    """The cross-center view of a ticket (and its contact's attributes): whitelisted, checked, masked."""

    def attr(name: str) -> Any:
        return getattr(contact, name, None) if contact is not None else None

    return SharedCase(
        id=_int_or_none(getattr(ticket, "id", None)),
        channel=str(getattr(ticket, "channel", "") or "")[:16],
        subject=mask(str(getattr(ticket, "subject", "") or "")),
        summary=mask(str(getattr(ticket, "summary", "") or "")),
        labels=shareable_labels({f: getattr(ticket, f, None) for f in LABEL_FIELDS}),
        age_band=vocab_value("age_band", attr("age_band")),
        gender=vocab_value("gender", attr("gender")),
        occupation=vocab_value("occupation", attr("occupation")),
        region=shareable_region(attr("region")),
        contract_amount=_int_or_none(getattr(ticket, "contract_amount", None)),
        paid_amount=_int_or_none(getattr(ticket, "paid_amount", None)),
        serious_accident=bool(getattr(ticket, "serious_accident", False)),
    )


def shareable_text(text: str) -> str:
    """Free text for another center: PII-masked (originals kept, spans replaced by placeholders)."""
    return mask(text or "")
