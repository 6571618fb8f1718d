"""The screener's second opinion (knowledge/accident_model.py, knowledge/data/accident_model.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.accident import detect_possible_accident, detect_serious_accident, screen
from knowledge.accident_model import (
    MODEL_PATH,
    PROMOTE_AT,
    REVIEW_AT,
    AccidentModelError,
    char_ngrams,
    load_model,
    parse_model,
)


def test_shipped_model_loads_and_separates_serious_from_contract_talk() -> None:
    model = load_model()
    assert model is not None and MODEL_PATH.stat().st_size < 1_000_000
    assert model.probability("ストーブから火が出て母がやけどで入院しました") > 0.8
    assert model.probability("定期購入を解約したい") < 0.3


def test_a_message_the_rules_miss_reaches_review_through_the_classifier() -> None:
    text = "トランポリンで息子が足首をくじいた"  # a text the rules miss and the model puts in the review band
    assert screen(text, second_opinion=False).tier == "none"
    result = screen(text)
    assert result.tier == "review" and result.probability is not None
    assert REVIEW_AT <= result.probability < PROMOTE_AT
    reasons = detect_possible_accident(text)
    assert any("[rule classifier]" in r and "p=" in r for r in reasons), reasons


def test_a_message_the_rules_miss_but_the_classifier_is_sure_of_is_flagged_with_its_words() -> None:
    text = "ベランダの手すりがぐらついていて、子どもが落ちて救急車で運ばれました"
    assert screen(text, second_opinion=False).tier != "serious"
    result = screen(text)
    assert result.tier == "serious" and result.probability is not None and result.probability >= PROMOTE_AT
    (hit,) = [h for h in result.hits if h.tier == "serious"]
    assert hit.rule == "classifier" and hit.words and all(w in text for w in hit.words), hit
    assert any("[rule classifier]" in r for r in detect_serious_accident(text))


@pytest.mark.parametrize(
    "text",
    [
        # a short course stated: the rules' reading stands
        "マッサージ店で首を強く押されて救急車で運ばれました。治療は1回で終わりました",
        "電動自転車のバッテリーが破裂して息子が救急車で運ばれました。全治2週間と言われました",
        # hearsay (a suppress blocker): no new accident is reported
        "マンションのベランダの手すりがぐらついて子どもが落ちて救急車で運ばれたらしいと近所の人から聞いた",
    ],
)
def test_the_classifier_does_not_flag_over_a_stated_short_course_or_hearsay(text: str) -> None:
    result = screen(text)
    assert result.probability is not None and result.probability >= PROMOTE_AT
    assert result.tier == "review" and detect_serious_accident(text) == [], result


def test_evidence_names_stretches_of_the_text() -> None:
    model = load_model()
    assert model is not None
    words = model.evidence("電動自転車のバッテリーが破裂して、息子が救急車で運ばれました")
    assert 1 <= len(words) <= 3 and all(
        len(w) >= 3 and w in "電動自転車のバッテリーが破裂して、息子が救急車で運ばれました" for w in words
    )
    assert model.evidence("") == [] and model.evidence("😀" * 5000) == []


@pytest.mark.parametrize(
    "text",
    [
        "ジムで転倒して手首を骨折したので、会費を返金してほしい",
        "20年前にストーブで火事になった。誰にも報告していない",
    ],
)
def test_the_classifier_never_demotes_a_rules_flag_it_finds_unlikely(text: str) -> None:
    result = screen(text)
    assert result.probability is not None and result.probability < REVIEW_AT
    assert result.tier == "serious" and detect_serious_accident(text), result


def test_the_demo_message_stays_flagged_with_the_second_opinion() -> None:
    result = screen("ストーブから火が出て母がやけどで入院しました")
    assert result.tier == "serious" and {"fire", "admitted"} <= {h.rule for h in result.hits}


def test_garbage_model_file_is_refused_and_a_missing_one_means_rules_alone(tmp_path: Path) -> None:
    with pytest.raises(AccidentModelError, match=r"model\.json: not an accident model file"):
        parse_model("{not json", source="model.json")
    with pytest.raises(AccidentModelError, match="not an accident model file"):
        parse_model('{"intercept": 0.1, "features": {"火": ["x", 1]}}')
    assert load_model(tmp_path / "absent.json") is None


@pytest.mark.parametrize("text", ["", "😀" * 5000, "火" * 20000, "\x00\x01"])
def test_garbage_and_oversized_text_score_without_crashing(text: str) -> None:
    model = load_model()
    assert model is not None and 0.0 <= model.probability(text) <= 1.0
    assert len(char_ngrams(text)) <= 3 * 4002


def test_pure_python_scorer_matches_scikit_learn() -> None:
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    texts = [
        "火が出て入院",
        "解約したい",
        "骨折して手術",
        "返金してほしい",
        "火事で全焼",
        "定期購入をやめたい",
    ] * 2
    labels = [True, False, True, False, True, False] * 2
    vec = sklearn_text.TfidfVectorizer(analyzer=char_ngrams, min_df=2, sublinear_tf=True)
    x = vec.fit_transform(texts)
    clf = sklearn_linear.LogisticRegression(C=4.0, solver="liblinear", random_state=0).fit(x, labels)
    raw = {
        "intercept": float(clf.intercept_[0]),
        "features": {g: [float(vec.idf_[i]), float(clf.coef_[0][i])] for g, i in vec.vocabulary_.items()},
    }
    model = parse_model(json.dumps(raw))
    probe = ["ストーブから火が出た", "解約の手続き", "zzz"]
    expected = clf.predict_proba(vec.transform(probe))[:, 1]
    assert [round(model.probability(t), 6) for t in probe] == [round(float(p), 6) for p in expected]


def test_the_classifier_does_not_flag_a_message_that_names_only_a_pet() -> None:
    text = "ペット用ステップが壊れて、ワンコが落ちて足を骨折、手術して全治2か月って😢"
    result = screen(text)
    assert result.probability is not None and result.probability >= PROMOTE_AT
    assert result.tier == "review" and detect_serious_accident(text) == [], result
