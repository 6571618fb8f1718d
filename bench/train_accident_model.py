"""Train the screener's second-opinion model: knowledge/data/accident_model.json (issue 15).

    .venv/bin/python bench/train_accident_model.py [--check]     # needs scikit-learn

Char 1–3-grams (knowledge.accident_model.char_ngrams), TF-IDF (min_df 3, sublinear tf), logistic regression
(liblinear, C=4, balanced classes, random_state 0) on every DEV split of bench/accident_quality.py but ``NOT_TRAINED`` — never
v2_test, v4_test or v5_blind (frozen: accident_quality.FROZEN). Rows are sorted by text first, so the same data gives
the same file. The script checks that the pure-Python scorer reproduces scikit-learn's probabilities.
``--check`` fails when the shipped file differs from what the data gives now.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accident_quality import DATA, FROZEN, SPLITS, read_jsonl  # noqa: E402

from knowledge.accident_model import MODEL_PATH, char_ngrams, parse_model  # noqa: E402

# Dev splits the model is not trained on (none now: v15 was left out while the model could demote a flag,
# since trained with it the model put a gym fracture the rules flag at p 0.091)
NOT_TRAINED: tuple[str, ...] = ()


def build() -> tuple[str, list[str], list[float]]:
    """The model file's text, the training texts and scikit-learn's probabilities for them."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = sorted(
        {
            r["text"]: r
            for s in SPLITS
            if s not in FROZEN and s not in NOT_TRAINED
            for r in read_jsonl(DATA / f"accident_{s}.jsonl")
        }.values(),
        key=lambda r: r["text"],
    )
    texts = [r["text"] for r in rows]
    labels = [r["label"] == "serious" for r in rows]
    vec = TfidfVectorizer(analyzer=char_ngrams, min_df=3, sublinear_tf=True)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=4.0, solver="liblinear", class_weight="balanced", random_state=0)
    clf.fit(x, labels)
    features = {
        g: [round(float(vec.idf_[i]), 6), round(float(clf.coef_[0][i]), 6)]
        for g, i in sorted(vec.vocabulary_.items())
    }
    model = {
        "comment": "Second opinion for knowledge/accident.py; written by bench/train_accident_model.py. "
        "features: char n-gram -> [idf, coefficient].",
        "trained_on": [s for s in SPLITS if s not in FROZEN and s not in NOT_TRAINED],
        "rows": len(rows),
        "serious": sum(labels),
        "intercept": round(float(clf.intercept_[0]), 6),
        "features": features,
    }
    text = json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n"
    return text, texts, [float(p) for p in clf.predict_proba(x)[:, 1]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped model is out of date")
    args = parser.parse_args()
    try:
        text, texts, probs = build()
    except ImportError:
        print("scikit-learn is not installed: .venv/bin/pip install scikit-learn", file=sys.stderr)
        return 2
    model = parse_model(text)
    worst = max(abs(model.probability(t) - p) for t, p in zip(texts, probs, strict=True))
    if worst > 1e-4:
        print(f"pure-Python scorer differs from scikit-learn by {worst:.2e}", file=sys.stderr)
        return 1
    if args.check:
        same = MODEL_PATH.exists() and MODEL_PATH.read_text(encoding="utf-8") == text
        print("model up to date" if same else f"{MODEL_PATH} is out of date: run this script")
        return 0 if same else 1
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(
        f"wrote {MODEL_PATH} ({len(text.encode()) // 1024} KiB, {len(texts)} rows, max |Δp| vs sklearn {worst:.1e})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
