"""Record prefill quality (issue #16) on bench/data/record_fill/{dev,test}.jsonl, and rule coverage.

    .venv/bin/python bench/record_fill.py [--split dev,test]

Per field: ``share_right`` = records whose prefill equals the correct record (an empty prefill is
right when the correct record has nothing there either); ``prefilled_right`` = fields with a correct
value that the prefill got right, over all such fields; ``typed_per_record`` = fields a counselor still
types or fixes per record (correct value present, prefill missing or wrong) against today's figure
(every field with a value is typed by hand): that is the baseline of the ratio; ``to_reject`` =
prefills where the correct record is empty (one click each).
Business names compare after NFKC with (株) = 株式会社; keywords compare as sets (and per keyword).
Planted inconsistencies (bench/data/record_fill/planted.jsonl) are run through crm/record_rules.py:
every one must be caught by the rule it names. The test split is frozen: never tune on it.
Results: bench/results/record_fill.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.clock import now_jst  # noqa: E402
from crm.record_rules import blocking, load_rules, validate_record  # noqa: E402
from knowledge.record_fill import ConversationMessage, prefill_record  # noqa: E402
from knowledge.record_fill.extract import FIELDS  # noqa: E402

DATA = ROOT / "bench" / "data" / "record_fill"
OUT = ROOT / "bench" / "results" / "record_fill.json"
GOLD_FIELDS = tuple(f for f in FIELDS if f != "serious_accident")  # the 重大事故等 flag is screened apart
AMOUNTS_DATES = ("contract_amount", "paid_amount", "contract_date", "payment_date", "document_date")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(field: str, value: Any) -> Any:
    if value in (None, "", []):
        return None
    if field == "business_name":
        v = unicodedata.normalize("NFKC", str(value)).replace("(株)", "株式会社").replace("(有)", "有限会社")
        return v.replace(" ", "")
    if field == "content_keywords":
        return frozenset(value)
    return value


def messages_of(case: dict[str, Any]) -> list[ConversationMessage]:
    return [
        ConversationMessage(m["from"], m["text"], datetime.fromisoformat(m["at"]), str(i))
        for i, m in enumerate(case["messages"])
    ]


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    per_field: dict[str, dict[str, int]] = {
        f: {"right": 0, "with_value": 0, "prefilled_right": 0, "to_reject": 0} for f in GOLD_FIELDS
    }
    kw_tp = kw_fp = kw_fn = 0
    typed, baseline, misses = [], [], []
    started = time.perf_counter()
    for case in cases:
        pred = {k: v.value for k, v in prefill_record(messages_of(case)).items()}
        n_typed = n_base = 0
        for f in GOLD_FIELDS:
            g, p = _norm(f, case["gold"].get(f)), _norm(f, pred.get(f))
            st = per_field[f]
            st["right"] += g == p
            if g is not None:
                st["with_value"] += 1
                n_base += 1
                st["prefilled_right"] += g == p
                n_typed += g != p
            elif p is not None:
                st["to_reject"] += 1
            if g != p:
                misses.append(
                    {"id": case["id"], "field": f, "gold": case["gold"].get(f), "prefill": pred.get(f)}
                )
            if f == "content_keywords":
                gs, ps = set(g or ()), set(p or ())
                kw_tp, kw_fp, kw_fn = kw_tp + len(gs & ps), kw_fp + len(ps - gs), kw_fn + len(gs - ps)
        typed.append(n_typed)
        baseline.append(n_base)
    elapsed = time.perf_counter() - started
    n = len(cases)
    fields = {
        f: {
            "share_right": round(st["right"] / n, 3),
            "prefilled_right": round(st["prefilled_right"] / st["with_value"], 3)
            if st["with_value"]
            else None,
            "with_value": st["with_value"],
            "to_reject": st["to_reject"],
        }
        for f, st in per_field.items()
    }
    ad_right = sum(per_field[f]["right"] for f in AMOUNTS_DATES) / (n * len(AMOUNTS_DATES))
    ad_stated = sum(per_field[f]["with_value"] for f in AMOUNTS_DATES)
    ad_stated_right = sum(per_field[f]["prefilled_right"] for f in AMOUNTS_DATES) / ad_stated
    with_value = sum(baseline)
    return {
        "records": n,
        "fields": fields,
        "amounts_dates_share_right": round(ad_right, 3),
        "amounts_dates_right_when_stated": round(ad_stated_right, 3),
        "prefilled_right_share": round(
            sum(st["prefilled_right"] for st in per_field.values()) / with_value, 3
        ),
        "typed_per_record": round(sum(typed) / n, 2),
        "typed_per_record_today": round(with_value / n, 2),
        "typed_ratio_vs_today": round(sum(typed) / with_value, 3),
        "to_reject_per_record": round(sum(st["to_reject"] for st in per_field.values()) / n, 2),
        "keywords_precision": round(kw_tp / (kw_tp + kw_fp), 3) if kw_tp + kw_fp else None,
        "keywords_recall": round(kw_tp / (kw_tp + kw_fn), 3) if kw_tp + kw_fn else None,
        "records_per_s": round(n / elapsed, 1) if elapsed else None,
        "misses": misses,
    }


def planted() -> dict[str, Any]:
    """Run the planted rows through the rules: each planted row must raise the rule it names; a clean
    row must raise nothing that blocks submission (warnings are allowed)."""
    rules = load_rules()
    caught, missed, false_alarms, n_planted, n_clean = 0, [], [], 0, 0
    for row in read_jsonl(DATA / "planted.jsonl"):
        found = validate_record(row["values"], rules, status="submitted", context=row.get("context"))
        if row["expect"]:
            n_planted += 1
            if set(row["expect"]) <= {v.rule for v in found}:
                caught += 1
            else:
                missed.append(
                    {"id": row["id"], "expected": row["expect"], "found": sorted({v.rule for v in found})}
                )
        else:
            n_clean += 1
            if blocking(found):
                false_alarms.append({"id": row["id"], "found": [v.rule for v in blocking(found)]})
    return {
        "planted": n_planted,
        "caught": caught,
        "missed": missed,
        "clean_rows": n_clean,
        "false_alarms_on_clean": false_alarms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev,test")
    parser.add_argument(
        "--misses", action="store_true", help="print the dev misses (never look at test misses to tune)"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"measured_at": now_jst().isoformat(timespec="seconds")}
    for split in args.split.split(","):
        r = evaluate(read_jsonl(DATA / f"{split}.jsonl"))
        results[split] = r
        print(f"== {split}: {r['records']} records")
        for f, st in r["fields"].items():
            print(
                f"  {f:18} share_right {st['share_right']:.3f}  prefilled_right {st['prefilled_right']}  (with value {st['with_value']}, to reject {st['to_reject']})"
            )
        for k in (
            "amounts_dates_share_right",
            "amounts_dates_right_when_stated",
            "prefilled_right_share",
            "typed_per_record",
            "typed_per_record_today",
            "typed_ratio_vs_today",
            "to_reject_per_record",
            "keywords_precision",
            "keywords_recall",
            "records_per_s",
        ):
            print(f"  {k}: {r[k]}")
        if args.misses and split == "dev":
            for m in r["misses"]:
                print("   miss", m)
    results["planted"] = planted()
    p = results["planted"]
    print(
        f"== planted inconsistencies: caught {p['caught']}/{p['planted']}; false alarms on clean rows: {len(p['false_alarms_on_clean'])}/{p['clean_rows']}"
    )
    for m in p["missed"]:
        print("   missed", m)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
