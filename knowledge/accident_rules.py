"""Load and validate the accident-screening rules (knowledge/data/accident_rules.json).

The file is data a supervisor may edit; it is checked at load: an unknown or misspelt key, a missing
field, an unknown tier/kind/scope or a regex that does not compile fails with a message naming the place.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

RULES_PATH = Path(__file__).resolve().parent / "data" / "accident_rules.json"
Kind = Literal["injury", "co", "fire", "fire_sign", "duration", "contamination"]


class AccidentRulesError(ValueError):
    """The rules file is invalid; the message says where and why."""


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regex {value!r}: {exc}") from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One signal: patterns that fire it, its tier and what it needs to count."""

    id: str
    kind: Kind
    tier: Literal["serious", "review"]
    label: str
    needs: list[Literal["person", "person_named", "cause"]]
    patterns: list[str]

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


class Blocker(_Strict):
    """A context (sales topic, hearsay, already reported…) that cancels hits of some kinds in a sentence."""

    id: str
    label: str
    scope: Literal["sentence", "message"]
    kinds: list[Kind]
    patterns: list[str]
    requires_in_sentence: str | None = None
    unless: str | None = None  # the blocker does not apply to a sentence this matches
    unless_in_message: str | None = None  # ... nor anywhere in a message this matches (a product named)
    effect: Literal["suppress", "review"] = "suppress"
    # a product named in a sentence this blocker matches (a sales pitch for 健康器具) does not count as named
    # for the other blockers' ``unless_in_message``
    hides_products: bool = False
    # a review blocker that states the harm stayed small (火は消えた, 消防は呼んでいない; 痛みや傷はありません):
    # the classifier does not flag over it (a suppress blocker always stops it)
    stops_promotion: bool = False

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]

    @field_validator("requires_in_sentence", "unless", "unless_in_message")
    @classmethod
    def _optional_regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)


class AccidentRules(_Strict):
    """The whole rules file."""

    version: int
    comment: str = ""
    clause_breaks: str
    negation_window: int
    negations: list[str]
    near_miss: list[str] = []
    near_miss_before: list[str] = []
    near_miss_unless: str = "(?!x)x"
    event_negations: list[str] = []
    event_hedges: list[str] = []
    # a hedge right after any serious match (骨折してるかも): review, even in a sentence naming a hospital
    hedges: list[str] = []
    person_cues: str
    pet_cues: str
    cause_cues: str
    contract_cues: str = "(?!x)x"
    rules: list[Rule]
    duration_threshold_days: int
    # a prognosis (半年かかる, 三か月たっても治らない) counts as a treatment period only in a message that
    # talks about a treatment or an injury (this regex), so 修理に2か月かかる is not one
    treatment_context: str = "(?!x)x"
    # a treatment stated as short (全治3週間, 1週間で退院, 治療は1回で終了) and nothing 30 days or more:
    # the hits of ``short_treatment_rules`` move to review, unless the treatment is still going on
    short_treatment_cues: list[str] = []
    ongoing_treatment_cues: str = "(?!x)x"
    short_treatment_rules: list[str] = []
    short_treatment_max_days: int = 21
    # an admission of a few days that ended (3日で退院, 一晩で帰れた): moves ``admitted`` hits (only those: a
    # fracture's or a burn's course goes on after discharge) to review, unless treatment goes on
    short_admission_cues: list[str] = []
    # spans that deny something (設備の不具合の申出はなし, ジムでの事故ではない): removed before a blocker's
    # ``unless_in_message`` is matched, so a product the message denies does not count as named
    denied_mentions: str = "(?!x)x"
    blockers: list[Blocker]

    @field_validator(
        "clause_breaks",
        "person_cues",
        "pet_cues",
        "cause_cues",
        "contract_cues",
        "near_miss_unless",
        "treatment_context",
        "ongoing_treatment_cues",
        "denied_mentions",
    )
    @classmethod
    def _regex(cls, value: str) -> str:
        return _check_regex(value)

    @field_validator(
        "negations",
        "near_miss",
        "near_miss_before",
        "event_negations",
        "event_hedges",
        "hedges",
        "short_treatment_cues",
        "short_admission_cues",
    )
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


def _describe(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown key (misspelt?)"
    return f"{where}: {err['msg']}"


def parse_rules(raw: str, source: str = "<string>") -> AccidentRules:
    """Validate rules JSON text; raise AccidentRulesError naming the file, the field path and the problem."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AccidentRulesError(f"{source}: not valid JSON: {exc}") from exc
    try:
        rules = AccidentRules.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise AccidentRulesError(f"{source}: invalid accident rules: {problems}") from exc
    ids = [r.id for r in rules.rules] + [b.id for b in rules.blockers]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise AccidentRulesError(f"{source}: duplicate rule ids: {', '.join(duplicates)}")
    unknown = sorted(set(rules.short_treatment_rules) - {r.id for r in rules.rules})
    if unknown:
        raise AccidentRulesError(f"{source}: short_treatment_rules names unknown rules: {', '.join(unknown)}")
    return rules


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> AccidentRules:
    """The validated rules from ``path`` (cached; call ``load_rules.cache_clear()`` after editing)."""
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path))
