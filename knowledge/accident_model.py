"""Second opinion for the accident screener: a char n-gram logistic regression shipped as data.

The rules (knowledge/accident.py) decide first; this model moves a text between tiers: a text the rules
leave unflagged but the model scores ``p >= PROMOTE_AT`` (0.7) is flagged serious with the n-grams that
weighed most as its words (unless the message states a short course), and one it scores ``p >= REVIEW_AT``
(0.35) goes to 要確認 (review). It never demotes or drops a rules flag. Both choices come from
bench/accident_promotion_backtest.py: each blind set's first run (the rules and model of the day it arrived,
v11–v15) with a model trained only on the sets before it. Promotion at 0.7 took flag recall from 0.905 to 0.97;
demoting flags under p 0.1 would have fixed 1 false flag of 202, while real serious cases kept landing near that
threshold as the training set grew. The weights
live in knowledge/data/accident_model.json, written by bench/train_accident_model.py (scikit-learn,
deterministic) from the DEV splits of bench/accident_quality.py; scoring here is plain Python (TF-IDF
with sublinear tf and L2 norm, then the logistic function), so nothing is downloaded or installed at run
time. The figures that justified shipping it are in bench/accident_classifier.py's output.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent / "data" / "accident_model.json"
PROMOTE_AT = 0.7  # rules say none or review, model this sure: flagged, the model named as the reason
REVIEW_AT = 0.35  # rules say none or review, model this sure: 要確認 with the model as the reason
NGRAMS = (1, 2, 3)
MAX_CHARS = 4000  # a longer text is scored on its first characters (a message states the event early)
_SPACES = re.compile(r"\s+")


def char_ngrams(text: str) -> list[str]:
    """Char 1–3-grams of the NFKC, lower-cased text without whitespace, ``^``/``$`` marking the ends."""
    t = "^" + _SPACES.sub("", unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()) + "$"
    return [t[i : i + n] for n in NGRAMS for i in range(len(t) - n + 1)]


@dataclass(frozen=True)
class AccidentModel:
    """Vocabulary with its idf and coefficient, and the intercept."""

    idf: dict[str, float]
    coef: dict[str, float]
    intercept: float

    def probability(self, text: str) -> float:
        """P(serious) for ``text``, as scikit-learn's pipeline computes it."""
        counts = Counter(g for g in char_ngrams(text) if g in self.idf)
        weights = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        z = self.intercept + (sum(w * self.coef[g] for g, w in weights.items()) / norm if norm else 0.0)
        return 1.0 / (1.0 + math.exp(-z))

    def evidence(self, text: str, limit: int = 3) -> list[str]:
        """The stretches of ``text`` (NFKC, no spaces) whose n-grams push P(serious) up most, best first."""
        t = "^" + _SPACES.sub("", unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()) + "$"
        score = [0.0] * len(t)
        for n in NGRAMS:
            for i in range(len(t) - n + 1):
                weight = self.coef.get(t[i : i + n], 0.0) * self.idf.get(t[i : i + n], 0.0)
                for j in range(i, i + n):
                    score[j] += weight / n
        spans: list[tuple[float, str]] = []
        i = 0
        while i < len(t):  # maximal runs of characters whose share of the weights is positive
            if score[i] <= 0:
                i += 1
                continue
            j = i
            while j < len(t) and score[j] > 0:
                j += 1
            word = t[i:j].strip("^$、。,.…!?！？ ")
            if len(word) >= 3:
                spans.append((sum(score[i:j]), word))
            i = j
        spans.sort(key=lambda s: -s[0])
        # the runs that carry real weight: a quarter of the strongest at least
        return [w for weight, w in spans[:limit] if weight >= spans[0][0] / 4]


class AccidentModelError(ValueError):
    """The model file is unreadable; the message names the file."""


def parse_model(raw: str, source: str = "<string>") -> AccidentModel:
    """A model from its JSON text (``{"intercept": b, "features": {ngram: [idf, coef]}}``)."""
    try:
        data = json.loads(raw)
        features = data["features"]
        return AccidentModel(
            idf={g: float(v[0]) for g, v in features.items()},
            coef={g: float(v[1]) for g, v in features.items()},
            intercept=float(data["intercept"]),
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise AccidentModelError(f"{source}: not an accident model file: {exc!r}") from exc


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> AccidentModel | None:
    """The shipped model, or None when the file is absent (the rules then work alone)."""
    if not path.exists():
        return None
    return parse_model(path.read_text(encoding="utf-8"), source=str(path))
