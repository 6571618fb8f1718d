"""The editable cue table of the record prefill (knowledge/data/record_fill.json), compiled once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.text import DATA_DIR

CUES_PATH = DATA_DIR / "record_fill.json"


@dataclass(frozen=True)
class Cues:
    sales_method: tuple[tuple[str, re.Pattern[str]], ...]
    product_extra: dict[str, tuple[str, ...]]
    occupation: tuple[tuple[str, re.Pattern[str]], ...]
    minor: re.Pattern[str]
    outcome: tuple[tuple[str | None, re.Pattern[str]], ...]
    business_labels: str
    business_not_names: tuple[str, ...]


@lru_cache(maxsize=4)
def load_cues(path: Path = CUES_PATH) -> Cues:
    """The cue table; a bad pattern fails here with the label it belongs to."""
    raw = json.loads(path.read_text(encoding="utf-8"))

    def pairs(key: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        out = []
        for label, pattern in raw[key]:
            try:
                out.append((label, re.compile(pattern)))
            except re.error as exc:
                raise ValueError(f"{path.name}: bad pattern for {key} {label!r}: {exc}") from exc
        return tuple(out)

    return Cues(
        sales_method=pairs("sales_method"),
        product_extra={k: tuple(v) for k, v in raw["product_extra"].items()},
        occupation=pairs("occupation"),
        minor=re.compile(raw["minor"]),
        outcome=pairs("outcome"),  # type: ignore[arg-type]
        business_labels=raw["business_labels"],
        business_not_names=tuple(raw["business_not_names"]),
    )
