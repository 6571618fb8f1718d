"""Serious-accident screening quality on bench/data/accident_v2_*.jsonl and accident_v4_*.jsonl.

    .venv/bin/python bench/accident_quality.py [--as current|before|baseline]

For each split: recall and precision of the ``serious`` label (a row counts as flagged when
``knowledge.accident.detect_serious_accident`` returns at least one reason), the missed and the wrongly
flagged texts, and — when the screener has a review tier (``knowledge.accident.screen``) — how many
``minor`` rows land in it. Results go to bench/results/accident_quality.json under the key given by --as
(``baseline`` = the keyword screener before the v2 work, kept verbatim in bench/accident_v1_screener.py;
``before`` = the rules screener v2 before the v4 work, frozen in bench/accident_v2_screener.py with
bench/data/accident_rules_v2.json; ``current`` = this tree). For screeners with a review tier the
entry also gives ``flag_or_review``: recall/precision when 要確認 (review) counts as a flag too. Splits: ``dev`` (tune here), ``test`` (frozen, grouped by template, never tuned
on) and ``fresh`` (70 hand-written rows written after the rules were, never tuned on: the least optimistic
figure, since dev/test and the rules share one author), ``fresh2`` (48 more, same kind); fresh and
fresh2 were tuned on after their first run, so they are DEV data now. ``v4_dev`` (112, tune here) and
``v4_test`` (61, frozen) are the 173 rows of bench/data/build_accident_v4.py, written and labelled before
the screener was run on them; ``v4_fresh`` (60) and ``v4_fresh2`` (59) were written after two rounds of
v4 rules, first run blind, then tuned on (DEV data now); ``v4_fresh3`` (44) after the last round. The build scripts refuse to overwrite the frozen files.
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
import accident_v2_screener  # noqa: E402

from knowledge import accident  # noqa: E402

DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "results" / "accident_quality.json"
SPLITS = (
    "v2_dev",
    "v2_test",
    "v2_fresh",
    "v2_fresh2",
    "v4_dev",
    "v4_fresh",
    "v4_fresh2",
    "v4_fresh3",
    "v4_test",
    "v3_blind",  # 260 rows by an author who never saw the rules; frozen, measured once after the rules were final
)
SCREENERS: dict[str, Any] = {
    "baseline": accident_v1_screener,
    "before": accident_v2_screener,
    "current": accident,
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows with a ``label``; the v3 blind set's boolean ``serious`` maps to serious / none."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if "label" not in row:
            row["label"] = "serious" if row["serious"] else "none"
    return rows


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate(rows: list[dict[str, Any]], key: str = "current") -> dict[str, Any]:
    """Recall/precision on ``serious``, plus the review tier's coverage of ``minor`` when available."""
    tp = fp = fn = 0
    wide_tp = wide_fp = 0
    missed: list[str] = []
    false_alarms: list[str] = []
    review_minor = review_none = 0
    module: Any = SCREENERS[key]
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
        tier = screen(row["text"]).tier if screen is not None and not flagged else "none"
        review_minor += tier == "review" and row["label"] == "minor"
        review_none += tier == "review" and row["label"] == "none"
        wide_tp += gold and (flagged or tier == "review")
        wide_fp += not gold and (flagged or tier == "review")
    elapsed = time.perf_counter() - start
    out: dict[str, Any] = {
        "rows": len(rows),
        "serious": sum(r["label"] == "serious" for r in rows),
        "recall": _ratio(tp, tp + fn),
        "precision": _ratio(tp, tp + fp),
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
        out["flag_or_review"] = {
            "recall": _ratio(wide_tp, out["serious"]),
            "precision": _ratio(wide_tp, wide_tp + wide_fp),
            "flagged": wide_tp + wide_fp,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as", dest="keys", action="append", choices=list(SCREENERS))
    args = parser.parse_args()
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    for key in args.keys or ["baseline", "before", "current"]:
        entry = {s: evaluate(read_jsonl(DATA / f"accident_{s}.jsonl"), key) for s in SPLITS}
        results[key] = entry
        for split, res in entry.items():
            wide = res.get("flag_or_review")
            extra = f" | +要確認 R={wide['recall']} P={wide['precision']}" if wide else ""
            print(
                f"{key:8s} {split:9s} rows={res['rows']:3d} serious={res['serious']:3d} recall={res['recall']} "
                f"precision={res['precision']} (fn={res['fn']} fp={res['fp']}){extra} {res['ms_per_text']} ms/text"
            )
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
