"""Serious-accident screening quality on bench/data/accident_v2_{dev,test}.jsonl.

    .venv/bin/python bench/accident_quality.py [--as current|baseline]

For each split: recall and precision of the ``serious`` label (a row counts as flagged when
``knowledge.accident.detect_serious_accident`` returns at least one reason), the missed and the wrongly
flagged texts, and — when the screener has a review tier (``knowledge.accident.screen``) — how many
``minor`` rows land in it. Results go to bench/results/accident_quality.json under the key given by --as
(``baseline`` = the keyword screener before the v2 work, kept verbatim in bench/accident_v1_screener.py;
``current`` = this tree). Splits: ``dev`` (tune here), ``test`` (frozen, grouped by template, never tuned
on) and ``fresh`` (70 hand-written rows written after the rules were, never tuned on: the least optimistic
figure, since dev/test and the rules share one author). bench/data/build_accident_v2.py refuses to
overwrite test and fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accident_v1_screener  # noqa: E402

from knowledge import accident  # noqa: E402

DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "results" / "accident_quality.json"
SPLITS = ("dev", "test", "fresh", "fresh2")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict[str, Any]], baseline: bool = False) -> dict[str, Any]:
    """Recall/precision on ``serious``, plus the review tier's coverage of ``minor`` when available."""
    tp = fp = fn = 0
    missed: list[str] = []
    false_alarms: list[str] = []
    review_minor = review_none = 0
    module: Any = accident_v1_screener if baseline else accident
    screen = getattr(module, "screen", None)
    start = time.perf_counter()
    for row in rows:
        flagged = bool(module.detect_serious_accident(row["text"]))
        gold = row["label"] == "serious"
        tp += flagged and gold
        fp += flagged and not gold
        fn += gold and not flagged
        if gold and not flagged:
            missed.append(row["text"])
        if flagged and not gold:
            false_alarms.append(row["text"])
        if screen is not None and not flagged:
            tier = screen(row["text"]).tier
            review_minor += tier == "review" and row["label"] == "minor"
            review_none += tier == "review" and row["label"] == "none"
    elapsed = time.perf_counter() - start
    out: dict[str, Any] = {
        "rows": len(rows),
        "serious": sum(r["label"] == "serious" for r in rows),
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "missed": missed,
        "false_alarms": false_alarms,
        "ms_per_text": round(1000 * elapsed / max(len(rows), 1), 3),
    }
    if screen is not None:
        minor = sum(r["label"] == "minor" for r in rows)
        out["review_tier"] = {
            "minor_in_review": review_minor,
            "minor_total": minor,
            "none_in_review": review_none,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as", dest="key", default="current", choices=["current", "baseline"])
    args = parser.parse_args()
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    baseline = args.key == "baseline"
    entry = {s: evaluate(read_jsonl(DATA / f"accident_v2_{s}.jsonl"), baseline) for s in SPLITS}
    results[args.key] = entry
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for split, res in entry.items():
        print(
            f"{args.key:8s} {split:6s} rows={res['rows']} serious={res['serious']} recall={res['recall']} "
            f"precision={res['precision']} (fn={res['fn']} fp={res['fp']}) {res['ms_per_text']} ms/text"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
