"""Backtest of the classifier's promotion to serious (knowledge.accident_model.PROMOTE_AT), issue 15.

    .venv/bin/python bench/accident_promotion_backtest.py     # needs scikit-learn and the git history

Each blind set was first scored with the rules of the day it arrived. This script rebuilds that day: it
extracts ``knowledge/`` (and what it imports) from the commit before the set landed into a temporary
directory, screens the set there in a subprocess, and trains the char n-gram model (the settings of
bench/train_accident_model.py) only on the sets that existed before it. It then prints, for thresholds T,
the flag recall/precision when an unflagged text the model scores ``p >= T`` is flagged too, pooled over
the rounds (without the shipped guards — no promotion over a stated short course or a suppress blocker —,
which only promote less). Nothing here reads a frozen split. Results go to bench/results/accident_promotion_backtest.json.
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
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
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


def model_before(split: str) -> Any:
    """A model trained like bench/train_accident_model.py on the dev splits listed before ``split``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    earlier = [s for s in SPLITS[: SPLITS.index(split)] if s not in FROZEN]
    rows = sorted(
        {r["text"]: r for s in earlier for r in read_jsonl(DATA / f"accident_{s}.jsonl")}.values(),
        key=lambda r: r["text"],
    )
    pipe = make_pipeline(
        TfidfVectorizer(analyzer=char_ngrams, min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, solver="liblinear", class_weight="balanced", random_state=0),
    )
    return pipe.fit([r["text"] for r in rows], [r["label"] == "serious" for r in rows])


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
    for key, value in result.items():
        print(f"{key:>20}: {value}")
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
