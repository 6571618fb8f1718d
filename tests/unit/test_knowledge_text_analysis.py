"""Pinned analyses: the fast paths of knowledge.text (NFKC shortcut, per-word caches) must give the
terms the index was built with, byte for byte (a changed term silently breaks every stored index)."""

from __future__ import annotations

import unicodedata

import pytest

import knowledge.text as text_module
from knowledge.text import Analyzer, _normalize_by_char, get_analyzer, normalize_with_offsets

PINNED = {
    "70歳代の母が訪問販売で屋根工事を1,200,000円で契約した。高額な解約料を請求された。": (
        ["70", "歳", "代", "母", "訪問", "販売", "訪問販売", "屋根", "工事", "屋根工事", "1200000", "円"]
        + ["1200000円", "契約", "高額", "解約料", "解約", "請求"]
    ),
    "ｶﾞｽ代１０万円を払った": ["ガス", "代", "ガス代", "100000", "円", "100000円", "払う"],
    "期限内に消費生活センターの相談員へ": (
        ["期限内", "期限", "消費", "生活", "消費生活", "センター", "生活センター", "相談員", "相談"]
    ),
    "サブスクを解約したいのに電話がつながらない": ["サブスク", "定期購入", "解約", "電話", "繋がる"],
}


@pytest.mark.parametrize("text", list(PINNED))
def test_document_terms_are_pinned(text: str) -> None:
    analyzer = get_analyzer()
    assert analyzer.terms(text) == PINNED[text]
    assert analyzer.terms(text) == PINNED[text]  # the second time from the per-word caches


def test_query_terms_split_only_long_nouns() -> None:
    analyzer = get_analyzer()
    assert analyzer.query_terms("期限内に消費生活センターの相談員へ") == [
        "期限内", "消費", "生活", "消費生活", "センター", "生活センター", "相談員"
    ]  # fmt: skip


def test_spans_point_into_the_original_text() -> None:
    morphs = get_analyzer().analyze("ｶﾞｽ代１０万円")
    assert [tuple(m) for m in morphs] == [
        (0, 3, "ｶﾞｽ", ("ガス",)),
        (3, 4, "代", ("代", "ガス代")),
        (4, 7, "１０万", ("100000",)),
        (7, 8, "円", ("円", "100000円")),
    ]


def test_text_already_in_nfkc_is_its_own_normalization_character_by_character() -> None:
    """The shortcut (NFKC text returned as is) equals the character-by-character normalization for
    every BMP character alone and around combining marks (the whole range: tools in the report)."""
    contexts = [("", ""), ("a", "\u0301"), ("カ", "\u3099"), ("\u0301", "a")]
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for before, after in contexts:
            s = before + chr(cp) + after
            if unicodedata.is_normalized("NFKC", s):
                assert _normalize_by_char(s) == (s, list(range(len(s)))), repr(s)


def test_text_not_in_nfkc_still_maps_back_to_its_offsets() -> None:
    assert normalize_with_offsets("（ｶﾞｽ代）１０万") == ("(ガス代)10万", [0, 1, 3, 4, 5, 6, 7, 8])


def test_a_full_word_cache_starts_over_with_the_same_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_WORD_CACHE", 8)
    small = Analyzer()
    for text in PINNED:
        assert small.terms(text) == PINNED[text]
    assert len(small._words) <= 8 and len(small._split) <= 8
