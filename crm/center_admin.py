"""Administration of centers (hours, closed dates, backup rules, postal prefixes): validated, audited.

Every refusal is an :class:`Unprocessable` whose message starts with the field (``hours: ...``,
``backup_rules.sat: ...``), so an operator knows what to fix. Nothing invalid is committed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from crm.audit import write_audit
from crm.center_hours import validate_hours
from crm.errors import Conflict, NotFound, Unprocessable
from crm.models import Center

CENTER_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
POSTAL_PREFIX = re.compile(r"^[0-9]{1,7}$")
YEARLY_DATE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
LEVELS = ("municipal", "prefectural", "national")
BACKUP_KEYS = ("sat", "sun", "holiday", "closed", "after_hours", "busy")
EDITABLE = (
    "name",
    "prefecture",
    "level",
    "parent_code",
    "postal_prefixes",
    "municipalities",
    "hours",
    "closed_dates",
    "backup_rules",
    "timezone",
)


def get_center(session: Session, *, center_id: int) -> Center:
    center = session.get(Center, center_id)
    if center is None:
        raise NotFound(f"no center {center_id}; see GET /api/centers or `madoguchi center list`")
    return center


def find_center(session: Session, *, code: str) -> Center:
    """The center with ``code``, or NotFound naming it."""
    center = session.exec(select(Center).where(Center.code == code)).first()
    if center is None:
        raise NotFound(f"no center with code {code!r}; see `madoguchi center list`")
    return center


def create_center(
    session: Session, *, code: str, name: str, prefecture: str, actor_id: int | None = None, **fields: Any
) -> Center:
    """Add a center; ``fields`` are any of :data:`EDITABLE`."""
    if not isinstance(code, str) or not CENTER_CODE.match(code):
        raise Unprocessable("code: 1-32 letters, digits, '-' or '_' (e.g. tokyo, kanagawa-yokohama)")
    if session.exec(select(Center).where(Center.code == code)).first() is not None:
        raise Conflict(f"code: a center with code {code!r} already exists")
    center = Center(code=code, name="", prefecture="")
    _apply(session, center, {"name": name, "prefecture": prefecture, **fields})
    session.add(center)
    session.flush()
    write_audit(
        session,
        actor_id=actor_id,
        action="center.create",
        object_type="center",
        object_id=center.id or 0,
        detail={"code": code},
    )
    session.commit()
    return center


def update_center(session: Session, *, center_id: int, actor_id: int | None = None, **changes: Any) -> Center:
    """Change any of :data:`EDITABLE` (``code`` is fixed: tickets and rules refer to it)."""
    center = get_center(session, center_id=center_id)
    before = {k: getattr(center, k) for k in changes if k in EDITABLE}
    try:
        _apply(session, center, changes)
    except Unprocessable:
        session.rollback()  # nothing half-changed may ride on a later commit
        raise
    session.add(center)
    write_audit(
        session,
        actor_id=actor_id,
        action="center.update",
        object_type="center",
        object_id=center_id,
        detail={"code": center.code, "before": before, "after": {k: getattr(center, k) for k in before}},
    )
    session.commit()
    return center


def _apply(session: Session, center: Center, changes: Mapping[str, Any]) -> None:
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise Unprocessable(f"{unknown[0]}: unknown field (editable: {', '.join(EDITABLE)})")
    checks = {
        "name": lambda v: _text("name", v, 200),
        "prefecture": lambda v: _text("prefecture", v, 16),
        "level": _level,
        "parent_code": lambda v: _center_ref(session, "parent_code", v, center.code),
        "postal_prefixes": _postal_prefixes,
        "municipalities": _municipalities,
        "hours": _hours,
        "closed_dates": _closed_dates,
        "backup_rules": lambda v: _backup_rules(session, v, center.code),
        "timezone": _timezone,
    }
    for key, value in changes.items():
        setattr(center, key, checks[key](value))


def _text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise Unprocessable(f"{field}: must be a non-empty string of at most {limit} characters")
    return value.strip()


def _level(value: Any) -> str:
    if value not in LEVELS:
        raise Unprocessable(f"level: {value!r} is not one of {', '.join(LEVELS)}")
    return str(value)


def _center_ref(session: Session, field: str, value: Any, own_code: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value == own_code:
        raise Unprocessable(f"{field}: must be the code of another center")
    if session.exec(select(Center).where(Center.code == value)).first() is None:
        raise Unprocessable(f"{field}: no center with code {value!r}")
    return value


def _postal_prefixes(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise Unprocessable('postal_prefixes: must be a list of 1-7 digit strings (e.g. ["100", "1500001"])')
    for i, prefix in enumerate(value):
        if not isinstance(prefix, str) or not POSTAL_PREFIX.match(prefix):
            raise Unprocessable(f"postal_prefixes[{i}]: {prefix!r} is not 1-7 digits (no hyphen)")
    return sorted(set(value))


MUNICIPALITY_LIMIT = 500  # a prefecture has at most ~80 市区町村; a center far fewer


def _municipalities(value: Any) -> list[str]:
    """市区町村 names as Japan Post spells them ("世田谷区", "横浜市"; 郡 included: "西多摩郡奥多摩町")."""
    example = '["世田谷区", "横浜市"]'
    if not isinstance(value, list) or len(value) > MUNICIPALITY_LIMIT:
        raise Unprocessable(
            f"municipalities: must be a list of at most {MUNICIPALITY_LIMIT} 市区町村 names (e.g. {example})"
        )
    names: list[str] = []
    for i, name in enumerate(value):
        text = unicodedata.normalize("NFKC", name).strip() if isinstance(name, str) else ""
        if not 2 <= len(text) <= 40 or not text.endswith(("市", "区", "町", "村")) or not text.isprintable():
            raise Unprocessable(
                f"municipalities[{i}]: {name!r} is not a 市区町村 name ending in 市, 区, 町 or 村 (e.g. {example})"
            )
        if text not in names:
            names.append(text)
    return names


def _hours(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unprocessable('hours: must be an object like {"mon": [["09:00", "17:00"]], "sat": []}')
    try:
        validate_hours(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise Unprocessable(f"hours: {exc}") from exc
    return {k: [list(i) for i in (v or [])] for k, v in value.items()}


def _closed_dates(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise Unprocessable('closed_dates: must be a list of "YYYY-MM-DD" or yearly "MM-DD" dates')
    for i, item in enumerate(value):
        if isinstance(item, str) and YEARLY_DATE.match(item):
            continue
        try:
            if not isinstance(item, str) or date.fromisoformat(item).isoformat() != item:
                raise ValueError
        except ValueError:
            raise Unprocessable(f'closed_dates[{i}]: {item!r} is not "YYYY-MM-DD" or "MM-DD"') from None
    return sorted(set(value))


def _backup_rules(session: Session, value: Any, own_code: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unprocessable(
            'backup_rules: must be an object like {"sat": "kokusen", "busy_wait_seconds": 180}'
        )
    rules: dict[str, Any] = {}
    for key, target in value.items():
        if key == "busy_wait_seconds":
            if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= 86_400:
                raise Unprocessable("backup_rules.busy_wait_seconds: must be seconds between 0 and 86400")
            rules[key] = target
        elif key in BACKUP_KEYS:
            rules[key] = _center_ref(session, f"backup_rules.{key}", target, own_code)
        else:
            known = ", ".join((*BACKUP_KEYS, "busy_wait_seconds"))
            raise Unprocessable(f"backup_rules.{key}: unknown rule (known: {known})")
    return {k: v for k, v in rules.items() if v is not None}


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise Unprocessable(f"timezone: {value!r} is not an IANA time zone (e.g. Asia/Tokyo)") from None
    return str(value)
