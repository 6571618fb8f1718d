"""Backtest of the classifier's promotion to serious (knowledge.accident_model.PROMOTE_AT), issue 15.

    .venv/bin/python bench/accident_promotion_backtest.py     # needs scikit-learn and the git history

Each blind set was first scored with the rules of the day it arrived. This script rebuilds that day: it
extracts ``knowledge/`` (and what it imports) from the commit before the set landed into a temporary
directory, screens the set there in a subprocess, and trains the char n-gram model (the settings of
bench/train_accident_model.py) only on the sets that existed before it. It then prints, for thresholds T,
the flag recall/precision when an unflagged text the model scores ``p >= T`` is flagged too, pooled over
the rounds (without the shipped guards — no promotion over a stated short course or a suppress blocker —,
which only promote less). Nothing here reads a frozen split. Results go to bench/results/accident_promotion_backtest.json.

``all_rounds`` repeats this for every blind set v11–v41 (2,976 texts, 1,240 serious) from the rules alone of each
set's arrival, tries a lower bar for texts the rules sent to 要確認, and the model's C (``C_VALUES``). On 2026-12-03:
rules 0.914 / 0.883; promote at 0.7 → 0.982 / 0.883; at 0.6 → 0.987 / 0.869; at 0.5 → 0.991 / 0.851; adding review ∧
p ≥ 0.5 to 0.7 → 0.986 / 0.856; C 1…16 at 0.7 → 0.954 / 0.886 … 0.986 / 0.879. The lower bars buy little recall for
much precision and C barely matters, so PROMOTE_AT stays 0.7 and C 4. (These figures are with min_df 2; with
min_df 3, which the shipped model now uses to stay under 1 MB, promotion at 0.7 gives 0.982 / 0.882.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accident_quality import DATA, FROZEN, SPLITS, read_jsonl  # noqa: E402

from knowledge.accident_model import char_ngrams  # noqa: E402

OUT = ROOT / "bench" / "results" / "accident_promotion_backtest.json"
# set -> the commit that added it (its first run used the parent's rules and model); v12 was scored with
# the rules from before the v11 round, which scored it the same
ROUNDS = {
    "v11_fresh": "22c8265",
    "v12_fresh": "22c8265",
    "v13_fresh": "8f7b820",
    "v14_fresh": "76b99bb",
    "v15_fresh": "80f592b",
}
# the sets that arrived after the promotion landed; their first runs already had it, so they are screened with
# the rules alone of the commit before them (v25, v29, v30, v32, v34, v35 and v37 were first scored on an uncommitted tree
# part-way through a round: the parent commit is the closest rebuild and scores them no better)
LATER_ROUNDS = {
    "v16_fresh": "6750fa5",
    "v17_fresh": "6750fa5",
    "v18_fresh": "b1ba97f",
    "v19_fresh": "b1ba97f",
    "v20_fresh": "6278ad8",
    "v21_fresh": "6278ad8",
    "v22_fresh": "cb4515a",
    "v23_fresh": "cb4515a",
    "v24_fresh": "f5f865e",
    "v25_fresh": "f5f865e",
    "v26_fresh": "46ba91d",
    "v27_fresh": "46ba91d",
    "v28_fresh": "d471a2b",
    "v29_fresh": "d471a2b",
    "v31_fresh": "d31e222",
    "v30_fresh": "d31e222",
    "v33_fresh": "a64cfad",
    "v35_fresh": "a64cfad",
    "v32_fresh": "a64cfad",
    "v34_fresh": "a64cfad",
    "v36_fresh": "ab4125b",
    "v37_fresh": "ab4125b",
    "v38_fresh": "bde8f60",
    "v39_fresh": "bde8f60",
    "v40_fresh": "6cea34f",
    "v41_fresh": "6cea34f",
}
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
REVIEW_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
C_VALUES = (1.0, 2.0, 4.0, 8.0, 16.0)
SCREEN = """
import json, sys
from knowledge import accident
rows = json.loads(sys.stdin.read())
print(json.dumps([[accident.screen(t).tier, accident.screen(t, second_opinion=False).tier] for t in rows]))
"""


def first_run_tiers(commit: str, texts: list[str]) -> list[tuple[str, str]]:
    """The tiers the rules and model at ``commit``'s parent gave ``texts``: (with the model, rules alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", f"{commit}^", "knowledge", "config", "crm", "channels"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = subprocess.run(
            [sys.executable, "-c", SCREEN],
            input=json.dumps(texts),
            cwd=tmp,
            env={"PYTHONPATH": tmp, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return [(with_model, alone) for with_model, alone in json.loads(out)]


def model_before(split: str, c: float = 4.0) -> Any:
    """A model trained like bench/train_accident_model.py (C ``c``) on the dev splits listed before ``split``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    earlier = [s for s in SPLITS[: SPLITS.index(split)] if s not in FROZEN]
    rows = sorted(
        {r["text"]: r for s in earlier for r in read_jsonl(DATA / f"accident_{s}.jsonl")}.values(),
        key=lambda r: r["text"],
    )
    pipe = make_pipeline(
        TfidfVectorizer(analyzer=char_ngrams, min_df=3, sublinear_tf=True),
        LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=0),
    )
    return pipe.fit([r["text"] for r in rows], [r["label"] == "serious" for r in rows])


def later_rounds() -> dict[str, Any]:
    """v11–v41, each screened by the rules alone of its arrival, with a model trained on the sets before it.

    Besides promoting any unflagged text at ``p >= T``, it tries a lower bar for what the rules already sent
    to 要確認: flagged when the rules gave review and ``p >= R`` (``PROMOTE_AT`` 0.7 for the rest).
    """
    records: list[tuple[bool, str, float]] = []  # (gold serious, first-run rules-alone tier, p)
    by_c: dict[float, list[float]] = {c: [] for c in C_VALUES}  # p under each regularization strength
    rounds = {**ROUNDS, **LATER_ROUNDS}
    for split, commit in rounds.items():
        rows = read_jsonl(DATA / f"accident_{split}.jsonl")
        texts = [r["text"] for r in rows]
        tiers = first_run_tiers(commit, texts)
        batch_first = min((s for s, c in rounds.items() if c == commit), key=SPLITS.index)
        probs = model_before(batch_first).predict_proba(texts)[:, 1]
        for c in C_VALUES:
            by_c[c] += [float(p) for p in model_before(batch_first, c).predict_proba(texts)[:, 1]]
        records += [
            (r["label"] == "serious", alone, float(p))
            for r, (_, alone), p in zip(rows, tiers, probs, strict=True)
        ]
        print(f"{split}: rules alone of {commit}^ scored")
    serious = sum(g for g, _, _ in records)

    def figures(promote_at: float | None, review_at: float | None = None) -> dict[str, float]:
        flagged = [
            (
                g,
                tier == "serious"
                or (promote_at is not None and p >= promote_at)
                or (review_at is not None and tier == "review" and p >= review_at),
            )
            for g, tier, p in records
        ]
        tp = sum(g and f for g, f in flagged)
        fp = sum(f and not g for g, f in flagged)
        return {"recall": round(tp / serious, 4), "precision": round(tp / (tp + fp), 4), "tp": tp, "fp": fp}

    out: dict[str, Any] = {"rows": len(records), "serious": serious, "rules_first_run": figures(None)}
    out |= {f"promote_at_{t}": figures(t) for t in THRESHOLDS}
    out |= {f"promote_at_0.7_review_at_{r}": figures(0.7, r) for r in REVIEW_THRESHOLDS}
    # the model's C (bench/train_accident_model.py uses 4): promotion at 0.6 / 0.7 / 0.8 under each
    for c, probs in by_c.items():
        flagged_by = {
            t: [(g, tier == "serious" or p >= t) for (g, tier, _), p in zip(records, probs, strict=True)]
            for t in (0.6, 0.7, 0.8)
        }
        out[f"C_{c}"] = {
            f"promote_at_{t}": {
                "recall": round(sum(g and f for g, f in fl) / serious, 4),
                "precision": round(sum(g and f for g, f in fl) / max(1, sum(f for _, f in fl)), 4),
            }
            for t, fl in flagged_by.items()
        }
    out["review_tier"] = {
        "serious": sum(g and t == "review" for g, t, _ in records),
        "not_serious": sum(not g and t == "review" for g, t, _ in records),
    }
    return out


def main() -> int:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("scikit-learn is not installed: .venv/bin/pip install scikit-learn", file=sys.stderr)
        return 2
    pooled: list[tuple[bool, bool, float]] = []  # (gold serious, flagged by the first run, p)
    rules_flags: list[
        tuple[bool, float]
    ] = []  # (gold serious, p) of each text the first run's rules alone flagged
    for split, commit in ROUNDS.items():
        rows = read_jsonl(DATA / f"accident_{split}.jsonl")
        texts = [r["text"] for r in rows]
        tiers = first_run_tiers(commit, texts)
        probs = model_before("v11_fresh" if split == "v12_fresh" else split).predict_proba(texts)[:, 1]
        gold = [r["label"] == "serious" for r in rows]
        pooled += [(g, t == "serious", float(p)) for g, (t, _), p in zip(gold, tiers, probs, strict=True)]
        rules_flags += [
            (g, float(p)) for g, (_, t), p in zip(gold, tiers, probs, strict=True) if t == "serious"
        ]
        print(f"{split}: first run with {commit}^ scored")
    serious = sum(g for g, _, _ in pooled)

    def figures(threshold: float | None) -> dict[str, float]:
        flagged = [(g, f or (threshold is not None and p >= threshold)) for g, f, p in pooled]
        tp = sum(g and f for g, f in flagged)
        fp = sum(f and not g for g, f in flagged)
        return {"recall": round(tp / serious, 4), "precision": round(tp / (tp + fp), 4), "tp": tp, "fp": fp}

    result = {"rows": len(pooled), "serious": serious, "rules_first_run": figures(None)}
    result |= {f"promote_at_{t}": figures(t) for t in THRESHOLDS}
    # the other direction: a rules flag the model scores under d goes to 要確認 (DEMOTE_BELOW)
    result |= {
        f"demote_below_{d}": {
            "serious_demoted": sum(g and p < d for g, p in rules_flags),
            "false_flags_demoted": sum(not g and p < d for g, p in rules_flags),
            "rules_flags": len(rules_flags),
        }
        for d in (0.05, 0.1, 0.2)
    }
    result["all_rounds"] = later_rounds()
    for key, value in result.items():
        print(f"{key:>20}: {value}")
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
