"""PII masking quality on the v2 set (bench/data/pii_v2_{dev,test}.jsonl), by type, dev and test.

    .venv/bin/python bench/pii_quality.py [--as current|baseline] [--split dev,test]

Per gold type:
* ``recall`` (strict, the figure that matters): a gold span counts as found only when every non-space
  character of it lies inside predicted spans, i.e. nothing of it is left visible after masking;
* ``recall_overlap``: the lenient figure of knowledge/evaluation.py (any overlap counts);
* ``precision``: a predicted span is correct when it overlaps a gold span (of any type: a phone masked as
  マイナンバー is still masked); wrong ones are counted under the predicted type;
* ``keep_survival``: share of must-keep strings (business/product names, prices, contract dates, URLs, 188,
  order numbers) still present verbatim in the masked text;
* ``texts_per_s``: find_pii + mask throughput on the split (one core, warm).
Test figures are also given by source (hand-written vs generated): the generated rows of dev and test share
templates, so the hand-written test rows are the less optimistic figure.
Results go to bench/results/pii_quality.json under the key given by --as (``baseline`` = the masker before
the v2 work, measured once; ``current`` = this tree). The test split is frozen: never tune on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.pii import find_pii, mask  # noqa: E402

DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "results" / "pii_quality.json"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 1.0


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Strict and overlap recall, precision and keep survival, by type and overall."""
    per: dict[str, dict[str, int]] = defaultdict(
        lambda: {"gold": 0, "covered": 0, "overlap": 0, "fp": 0, "pred": 0}
    )
    keep_ok = keep_total = 0
    misses: list[dict[str, str]] = []
    false_pos: list[dict[str, str]] = []
    for row in rows:
        text = row["text"]
        pred = find_pii(text)
        masked_pos = {i for p in pred for i in range(p.start, p.end)}
        for g in row["spans"]:
            c = per[g["type"]]
            c["gold"] += 1
            chars = [i for i in range(g["start"], g["end"]) if not text[i].isspace()]
            c["covered"] += all(i in masked_pos for i in chars)
            c["overlap"] += any(p.start < g["end"] and g["start"] < p.end for p in pred)
            if not all(i in masked_pos for i in chars):
                misses.append({"type": g["type"], "span": text[g["start"] : g["end"]], "text": text[:90]})
        for p in pred:
            per[p.type]["pred"] += 1
            if not any(p.start < g["end"] and g["start"] < p.end for g in row["spans"]):
                per[p.type]["fp"] += 1
                false_pos.append({"type": p.type, "span": text[p.start : p.end], "text": text[:90]})
        masked = mask(text)
        for s in row.get("keep", []):
            keep_total += 1
            keep_ok += s in masked
    by_type = {
        t: {
            "recall": _ratio(c["covered"], c["gold"]),
            "recall_overlap": _ratio(c["overlap"], c["gold"]),
            "precision": _ratio(c["pred"] - c["fp"], c["pred"]),
            **c,
        }
        for t, c in sorted(per.items())
    }
    tot = {k: sum(c[k] for c in per.values()) for k in ("gold", "covered", "overlap", "fp", "pred")}
    return {
        "texts": len(rows),
        "overall": {
            "recall": _ratio(tot["covered"], tot["gold"]),
            "recall_overlap": _ratio(tot["overlap"], tot["gold"]),
            "precision": _ratio(tot["pred"] - tot["fp"], tot["pred"]),
            **tot,
        },
        "by_type": by_type,
        "keep_survival": _ratio(keep_ok, keep_total),
        "keep_total": keep_total,
        "misses": misses[:60],
        "false_positives": false_pos[:60],
    }


def throughput(rows: list[dict[str, Any]]) -> float:
    texts = [r["text"] for r in rows]
    for t in texts[:20]:
        mask(t)  # warm the tokenizer
    t0 = time.perf_counter()
    for t in texts:
        mask(t)
    return round(len(texts) / (time.perf_counter() - t0), 1)


def run_split(name: str) -> dict[str, Any]:
    rows = read_jsonl(DATA / f"pii_v2_{name}.jsonl")
    out = score(rows)
    out["texts_per_s"] = throughput(rows)
    out["by_source"] = {
        src: {
            k: v
            for k, v in score([r for r in rows if r.get("source") == src]).items()
            if k in ("texts", "overall")
        }
        | {
            "recall_by_type": {
                t: c["recall"]
                for t, c in score([r for r in rows if r.get("source") == src])["by_type"].items()
            }
        }
        for src in ("hand", "generated")
    }
    return out


def print_split(name: str, res: dict[str, Any]) -> None:
    print(
        f"== {name}: {res['texts']} texts, {res['texts_per_s']} texts/s, keep survival {res['keep_survival']}"
    )
    print(f"   {'type':10} {'recall':>7} {'overlap':>8} {'prec':>6} {'gold':>5} {'pred':>5}")
    for t, c in res["by_type"].items():
        print(
            f"   {t:10} {c['recall']:7.4f} {c['recall_overlap']:8.4f} {c['precision']:6.4f} {c['gold']:5} {c['pred']:5}"
        )
    o = res["overall"]
    print(
        f"   {'overall':10} {o['recall']:7.4f} {o['recall_overlap']:8.4f} {o['precision']:6.4f} {o['gold']:5} {o['pred']:5}"
    )
    for src, s in res["by_source"].items():
        print(
            f"   {src}: {s['texts']} texts, recall {s['overall']['recall']}, precision {s['overall']['precision']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--as", dest="key", default="current", choices=("current", "baseline"))
    ap.add_argument("--split", default="dev,test")
    ap.add_argument(
        "--show-misses", action="store_true", help="print missed spans and false positives (dev only)"
    )
    args = ap.parse_args()
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    entry: dict[str, Any] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for name in args.split.split(","):
        entry[name] = run_split(name)
        print_split(name, entry[name])
        if args.show_misses and name == "dev":
            for m in entry[name]["misses"]:
                print("   MISS", m)
            for m in entry[name]["false_positives"]:
                print("   FP  ", m)
    results[args.key] = entry
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"-> {OUT} [{args.key}]")


if __name__ == "__main__":
    main()
