"""Does a small classifier beat the accident rules on the frozen test splits? (issue 15, optional step)

    .venv/bin/python bench/accident_classifier.py [--extra PATH]   # needs scikit-learn

Trains the shipped model's recipe (bench/train_accident_model.py: knowledge.accident_model.char_ngrams,
TF-IDF, liblinear logistic regression, deterministic) on the DEV splits of bench/accident_quality.py
(every split except the frozen v2_test, v4_test, v5_blind and the --extra files) and scores it
on the frozen splits (and --extra), alone and combined with the rules alone
(``screen(text, second_opinion=False)``):

* ``clf``: the classifier alone (serious when p >= 0.5);
* ``rules+clf review``: a second opinion that raises 要確認 when the rules say none and p >= REVIEW_AT (0.35)
  (can only add review-tier rows: flag-tier figures stay those of the rules);
* ``rules+clf promote``: a text the rules do not flag is flagged when p >= PROMOTE_AT (0.7), without the
  shipped guards (no promotion over a stated short course or a suppress blocker);
* ``rules+clf (shipped)``: both, as knowledge/accident.py applies the shipped model (the guards aside).

Prints one line per variant and split, writes bench/results/accident_classifier.json. The classifier is
shipped only if a variant beats the rules on both frozen splits; the figures say whether it did.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accident_quality import DATA, FROZEN, SPLITS, read_jsonl  # noqa: E402

from knowledge.accident import screen  # noqa: E402
from knowledge.accident_model import PROMOTE_AT, REVIEW_AT, char_ngrams  # noqa: E402

OUT = ROOT / "bench" / "results" / "accident_classifier.json"


def _figures(gold: list[bool], flag: list[bool], review: list[bool]) -> dict[str, Any]:
    def rp(pred: list[bool]) -> tuple[float | None, float | None]:
        tp = sum(g and p for g, p in zip(gold, pred, strict=True))
        fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
        fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
        rec = round(tp / (tp + fn), 4) if tp + fn else None
        prec = round(tp / (tp + fp), 4) if tp + fp else None
        return rec, prec

    wide = [f or r for f, r in zip(flag, review, strict=True)]
    (r1, p1), (r2, p2) = rp(flag), rp(wide)
    return {"recall": r1, "precision": p1, "review_recall": r2, "review_precision": p2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="another labelled .jsonl to score"
    )
    args = parser.parse_args()
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError:
        print("scikit-learn is not installed: .venv/bin/pip install scikit-learn", file=sys.stderr)
        return 2
    held_out = {p.resolve() for p in args.extra}
    train = [
        r
        for s in SPLITS
        if s not in FROZEN and (DATA / f"accident_{s}.jsonl").resolve() not in held_out
        for r in read_jsonl(DATA / f"accident_{s}.jsonl")
    ]
    model = make_pipeline(
        TfidfVectorizer(analyzer=char_ngrams, min_df=3, sublinear_tf=True),
        LogisticRegression(C=4.0, solver="liblinear", class_weight="balanced", random_state=0),
    )
    model.fit([r["text"] for r in train], [r["label"] == "serious" for r in train])
    results: dict[str, Any] = {"train_rows": len(train)}
    targets = [(s, DATA / f"accident_{s}.jsonl") for s in FROZEN] + [(p.stem, p) for p in args.extra]
    for split, path in targets:
        rows = read_jsonl(path)
        gold = [r["label"] == "serious" for r in rows]
        prob = [float(p) for p in model.predict_proba([r["text"] for r in rows])[:, 1]]
        tiers = [screen(r["text"], second_opinion=False).tier for r in rows]
        flag = [t == "serious" for t in tiers]
        review = [t == "review" for t in tiers]
        variants = {
            "rules": _figures(gold, flag, review),
            "clf": _figures(gold, [p >= 0.5 for p in prob], [False] * len(rows)),
            "rules+clf review": _figures(
                gold,
                flag,
                [r or (not f and p >= REVIEW_AT) for f, r, p in zip(flag, review, prob, strict=True)],
            ),
            "rules+clf promote": _figures(
                gold, [f or p >= PROMOTE_AT for f, p in zip(flag, prob, strict=True)], review
            ),
            "rules+clf (shipped)": _figures(
                gold,
                [f or p >= PROMOTE_AT for f, p in zip(flag, prob, strict=True)],
                [r or p >= REVIEW_AT for r, p in zip(review, prob, strict=True)],
            ),
        }
        results[split] = variants
        for name, fig in variants.items():
            print(
                f"{split:8s} {name:17s} flag R={fig['recall']} P={fig['precision']} | "
                f"+要確認 R={fig['review_recall']} P={fig['review_precision']}"
            )
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
