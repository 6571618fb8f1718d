"""商品・役務 keyword evidence: kana folding, shadowing by longer keywords, and the vocabulary file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.categories import top_level_of, vocabulary
from knowledge.category_lexicon import fold, keyword_matches, keyword_scores

ROOT = Path(__file__).resolve().parents[2]


def test_fold_meets_katakana_hiragana_and_width() -> None:
    assert fold("カニ") == fold("かに")
    assert fold("ＷＩ－ＦＩ") == fold("wi-fi")
    assert fold("ｻﾌﾟﾘ") == fold("さぷり")


def test_a_longer_keyword_shadows_the_shorter_ones_inside_it() -> None:
    vocab = {"家電修理": ["エアコンの修理"], "生活家電": ["エアコン"], "修理サービス": ["修理"]}
    assert set(keyword_matches("エアコンの修理を頼んだら高い", vocab)) == {"家電修理"}
    # where the short word stands alone it still counts
    assert set(keyword_matches("エアコンが冷えない。修理は断った", vocab)) == {"生活家電", "修理サービス"}


def test_one_specific_keyword_beats_one_vague_keyword() -> None:
    vocab = {
        "電動アシスト自転車": ["電動自転車"],
        "自転車": ["自転車"],
        "暗号資産": ["ビットコイン", "コイン"],
    }
    scores = keyword_scores("電動自転車のバッテリーが切れる", vocab)
    assert list(scores) == ["電動アシスト自転車"]
    assert keyword_scores("ビットコインのアプリ", vocab)["暗号資産"] == pytest.approx(1.0)
    assert keyword_scores("何もない文", vocab) == {}


@pytest.mark.parametrize(
    ("text", "label"),
    [  # colloquial openings from the dev split (bench/data/suggest_dev.jsonl)
        ("青汁1回だけのつもりが毎月届くんですけど", "健康食品"),
        ("しききんぜんぜん返ってこない", "賃貸アパート・マンション"),
        ("息子がフォートナイトでVバックス買いまくってた", "オンラインゲーム"),
        ("メルカリで買ったのが偽物だった", "フリマサービス"),
        ("エアコンの修理、メーカーじゃない業者に頼んだら直ってない", "家電修理"),
    ],
)
def test_colloquial_openings_get_their_label_from_keywords_alone(text: str, label: str) -> None:
    scores = keyword_scores(text, vocabulary("product_category"))
    assert max(scores, key=lambda k: scores[k]) == label


def test_every_label_in_the_vocabulary_and_the_demo_cases_has_a_known_top_level() -> None:
    raw = json.loads((ROOT / "knowledge" / "data" / "product_categories.json").read_text(encoding="utf-8"))
    for label, entry in raw["labels"].items():
        assert entry["top"] in raw["top_levels"], label
        assert entry["keywords"], label
    cases = [
        json.loads(x)
        for x in (ROOT / "crm" / "demo_data" / "cases.jsonl").read_text("utf-8").splitlines()
        if x
    ]
    missing = {c["product_category"] for c in cases if top_level_of(c["product_category"]) is None}
    assert not missing
    assert top_level_of("学習塾") == "教育サービス" and top_level_of("教育サービス") == "教育サービス"


def test_two_character_kana_keywords_keep_their_script() -> None:
    vocab = {"魚介類": ["カニ"], "健康食品": ["サプリ"]}
    assert set(keyword_matches("確かに高いと思った", vocab)) == set()
    assert set(keyword_matches("カニが届いた", vocab)) == {"魚介類"}
    assert set(keyword_matches("さぷりの定期", vocab)) == {"健康食品"}
