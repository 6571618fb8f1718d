"""The rules a consultation record is checked against, as data (crm/data/record_rules.json).

The file holds, under a ``version`` every checked record remembers:

* ``fields``: each field's label (named in every message), type and vocabulary;
* ``required``: fields required by record status (draft: none; submitted and approved: the core);
* ``required_when``: fields required by category (a 訪問販売 case needs its 契約日, ...);
* ``consistency``: 既支払額 ≤ 契約購入金額, dates in order and not after the 受付日, a 重大事故等 flag needs
  the notification;
* ``summary_hygiene``: no personal data in 相談概要 (patterns, and the consumer's own name/phone/address).

:func:`check_values` finds values that must never be stored (wrong type, outside the vocabulary);
:func:`validate_record` adds the completeness and consistency rules of a status. Pure: no I/O
beyond reading the rules file; the caller passes what it knows in ``context``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_PATH = Path(__file__).resolve().parent / "data" / "record_rules.json"
DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Violation:
    """One broken rule: the field, the rule id, a message a counselor can act on, and its severity
    (``invalid``: never stored; ``error``: blocks submission; ``warning``: shown only)."""

    field: str
    rule: str
    message: str
    severity: str


@dataclass(frozen=True)
class RecordRules:
    version: str
    fields: dict[str, dict[str, Any]]
    vocabularies: dict[str, list[str]]
    required: dict[str, list[str]]
    required_when: list[dict[str, Any]]
    consistency: list[dict[str, Any]]
    hygiene: dict[str, Any]
    hygiene_patterns: dict[str, re.Pattern[str]]

    def label(self, field: str) -> str:
        return str(self.fields.get(field, {}).get("label", field))


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RecordRules:
    """The rules file, checked: every rule must name known fields (a typo fails here, not silently)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = raw["fields"]
    for status, names in raw["required"].items():
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise ValueError(f"{path.name}: required[{status}] names unknown fields {unknown}")
    for f, spec in fields.items():
        if spec.get("vocabulary") and spec["vocabulary"] not in raw["vocabularies"]:
            raise ValueError(f"{path.name}: field {f} uses unknown vocabulary {spec['vocabulary']}")
    hygiene = raw["summary_hygiene"]
    return RecordRules(
        version=str(raw["version"]),
        fields=fields,
        vocabularies=raw["vocabularies"],
        required=raw["required"],
        required_when=raw["required_when"],
        consistency=raw["consistency"],
        hygiene=hygiene,
        hygiene_patterns={k: re.compile(v) for k, v in hygiene["patterns"].items()},
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def date_range(value: str) -> tuple[date, date] | None:
    """The first and last day a record date (``YYYY-MM-DD`` or month precision ``YYYY-MM``) may mean."""
    m = DATE.match(value) if isinstance(value, str) else None
    if not m:
        return None
    y, mo = int(m.group(1)), int(m.group(2))
    try:
        if m.group(3):
            d = date(y, mo, int(m.group(3)))
            return d, d
        first = date(y, mo, 1)
    except ValueError:
        return None
    nxt = date(y + (mo == 12), mo % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def _check_one(field: str, value: Any, spec: dict[str, Any], rules: RecordRules) -> str | None:
    label, kind = rules.label(field), spec["type"]
    if kind == "amount":
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < 0
            or value > spec.get("max", 10**12)
        ):
            return f"{label} must be a whole number of yen between 0 and {spec.get('max', 10**12):,} (got {value!r})"
    elif kind == "date":
        if date_range(value) is None:
            return (
                f"{label} must be a date YYYY-MM-DD (or YYYY-MM when only the month is known), got {value!r}"
            )
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"{label} must be true or false (got {value!r})"
    elif kind == "text":
        if not isinstance(value, str) or len(value) > spec.get("max_length", 1000):
            return f"{label} must be text of at most {spec.get('max_length', 1000)} characters"
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            return f"{label} contains characters that are not valid text (NUL or a lone surrogate)"
    elif kind in ("choice", "choices"):
        allowed = rules.vocabularies[spec["vocabulary"]]
        items = value if kind == "choices" else [value]
        if kind == "choices" and (not isinstance(value, list) or len(value) > spec.get("max_items", 10)):
            return f"{label} must be a list of at most {spec.get('max_items', 10)} values"
        if len(set(map(str, items))) != len(items):
            return f"{label} lists the same value twice"
        bad = [v for v in items if v not in allowed]
        if bad:
            return f"{label}: {bad[0]!r} is not an allowed value; use one of: {'、'.join(allowed)}"
    return None


def check_values(values: dict[str, Any], rules: RecordRules | None = None) -> list[Violation]:
    """Values that may never be stored: unknown fields, wrong types, values outside the vocabulary."""
    rules = rules or load_rules()
    out = []
    for field, value in values.items():
        spec = rules.fields.get(field)
        if spec is None:
            known = ", ".join(rules.fields)
            out.append(
                Violation(
                    field,
                    "unknown_field",
                    f"{field!r} is not a field of the record; fields: {known}",
                    "invalid",
                )
            )
            continue
        if _empty(value):
            continue
        problem = _check_one(field, value, spec, rules)
        if problem:
            out.append(Violation(field, "invalid_value", problem, "invalid"))
    return out


def validate_record(
    values: dict[str, Any],
    rules: RecordRules | None = None,
    *,
    status: str = "submitted",
    context: dict[str, Any] | None = None,
) -> list[Violation]:
    """Every violation of ``values`` for a record in ``status``. ``context``: ``received_on`` (受付日,
    ISO), ``accident_notified`` (bool), ``personal`` (the consumer's own name, phone, ... to keep out
    of 相談概要)."""
    rules = rules or load_rules()
    context = context or {}
    out = check_values(values, rules)
    invalid = {v.field for v in out}
    ok = {f: v for f, v in values.items() if f not in invalid and not _empty(v)}
    for field in rules.required.get(status, []):
        if field not in ok:
            out.append(
                Violation(
                    field,
                    "required",
                    f"{rules.label(field)} is required before the record is {status}",
                    "error",
                )
            )
    out += _required_when(ok, rules)
    out += _consistency(ok, rules, context)
    out += _hygiene(ok, rules, context)
    return out


def _required_when(ok: dict[str, Any], rules: RecordRules) -> list[Violation]:
    out = []
    for r in rules.required_when:
        trigger = None
        for f, allowed in r.get("if_in", {}).items():
            if f in ok and ok[f] in allowed:
                trigger = ok[f]
        for f in r.get("if_set", []):
            if f in ok:
                trigger = ok[f]
        if trigger is None:
            continue
        for f in r["then"]:
            if f not in ok:
                why = r["why"].format(value=trigger)
                out.append(Violation(f, r["rule"], f"{rules.label(f)} is missing: {why}", r["severity"]))
    return out


def _consistency(ok: dict[str, Any], rules: RecordRules, context: dict[str, Any]) -> list[Violation]:
    out = []
    for r in rules.consistency:
        kind, sev = r["kind"], r["severity"]
        if kind == "amount_le" and r["left"] in ok and r["right"] in ok and ok[r["left"]] > ok[r["right"]]:
            left, right = rules.label(r["left"]), rules.label(r["right"])
            msg = f"{left} ({ok[r['left']]:,}円) is more than {right} ({ok[r['right']]:,}円): one of the two amounts is wrong"
            out.append(Violation(r["left"], r["rule"], msg, sev))
        elif kind == "date_le" and r["left"] in ok and r["right"] in ok:
            a, b = date_range(ok[r["left"]]), date_range(ok[r["right"]])
            if a and b and a[0] > b[1]:
                left, right = rules.label(r["left"]), rules.label(r["right"])
                msg = f"{right} ({ok[r['right']]}) is before {left} ({ok[r['left']]}): check both dates"
                out.append(Violation(r["right"], r["rule"], msg, sev))
        elif kind == "date_le_received" and context.get("received_on"):
            received = date.fromisoformat(str(context["received_on"]))
            for f in r["fields"]:
                span = date_range(ok[f]) if f in ok else None
                if span and span[0] > received:
                    msg = f"{rules.label(f)} ({ok[f]}) is after the 受付日 ({received.isoformat()}): a date in the future cannot be right"
                    out.append(Violation(f, r["rule"], msg, sev))
        elif kind == "flag_needs_context" and ok.get(r["flag"]) is True and not context.get(r["context"]):
            out.append(Violation(r["flag"], r["rule"], f"{rules.label(r['flag'])}: {r['why']}", sev))
    return out


def _hygiene(ok: dict[str, Any], rules: RecordRules, context: dict[str, Any]) -> list[Violation]:
    field = rules.hygiene["field"]
    text = ok.get(field)
    if not isinstance(text, str):
        return []
    out = []
    label, sev = rules.label(field), rules.hygiene["severity"]
    allowed = set(rules.hygiene.get("allow", []))
    for what, pattern in rules.hygiene_patterns.items():
        if what not in allowed and pattern.search(text):
            msg = f"{label} contains a {what}: 相談概要 goes to PIO-NET-style exports, write it without personal data"
            out.append(Violation(field, "personal_data", msg, sev))
    personal = context.get("personal") or {}
    for key in rules.hygiene.get("personal_data", []):
        value = personal.get(key)
        if (
            isinstance(value, str)
            and len(value.strip()) >= 2
            and value.strip() in text
            and key not in allowed
        ):
            msg = f"{label} contains the consumer's {key.replace('_', ' ')}: remove it (personal data stays in the contact, not the record)"
            out.append(Violation(field, "personal_data", msg, sev))
    return out


def blocking(violations: list[Violation]) -> list[Violation]:
    """The violations that stop a submission or an approval."""
    return [v for v in violations if v.severity in ("invalid", "error")]
