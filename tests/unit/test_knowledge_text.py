"""Japanese analysis: normalization, 表記ゆれ, stop POS, numbers, synonyms, offsets for highlighting."""

from __future__ import annotations

import threading
from pathlib import Path

from knowledge.snippet import highlight
from knowledge.text import Analyzer, char_bigrams, get_analyzer, normalize_with_offsets


def test_spelling_variants_and_width_meet() -> None:
    a = get_analyzer()
    assert a.terms("シュミレーション") == a.terms("シミュレーション")
    assert set(a.terms("ｻﾌﾞｽｸ")) == set(a.terms("サブスク"))
    assert "paypay" in a.terms("ＰａｙＰａｙで払った")


def test_particles_auxiliaries_and_symbols_are_dropped() -> None:
    terms = get_analyzer().terms("定期購入の解約をしたいです！！")
    assert "の" not in terms and "を" not in terms and "です" not in terms and "!" not in terms
    assert {"定期", "購入", "定期購入", "解約"} <= set(terms)


def test_amounts_are_normalized_whatever_the_writing() -> None:
    a = get_analyzer()
    for text in ("10万円", "100,000円", "１０万円", "100000円"):
        assert "100000円" in a.terms(text), text


def test_synonyms_meet_at_index_and_query_time() -> None:
    a = get_analyzer()
    assert "解約" in a.terms("キャンセルしたい")
    assert "定期購入" in a.terms("サブスクの契約")
    assert "架空請求" in a.terms("不当請求のメール")


def test_synonym_file_is_editable(tmp_path: Path) -> None:
    syn = tmp_path / "syn.txt"
    syn.write_text("# comment\n給湯器 ボイラー\n", encoding="utf-8")
    a = Analyzer(synonyms_path=syn)
    assert "給湯器" in a.terms("ボイラーが壊れた")
    assert "解約" not in a.terms("キャンセル")


def test_bigram_fallback_only_for_unknown_words() -> None:
    plain, fb = Analyzer(), Analyzer(bigram_fallback=True)
    assert plain.terms("解約") == fb.terms("解約")
    unknown = "ﾎﾟﾎﾟﾋﾟﾊﾟﾌﾟﾍﾟ"
    assert len(fb.terms(unknown)) >= len(plain.terms(unknown))


def test_garbage_empty_and_huge_input() -> None:
    a = get_analyzer()
    assert a.terms("") == []
    assert a.terms("\x00\ufffd\u200b!!??") == []
    huge = "定期購入の解約ができない。" * 5000  # beyond Sudachi's per-call input limit
    assert a.terms(huge).count("解約") == 5000


def test_offsets_map_back_to_the_original_text() -> None:
    norm, offsets = normalize_with_offsets("ｶﾞｽ代１０万円")
    assert norm == "ガス代10万円"
    assert offsets[0] == 0 and offsets[1] == 2
    morphs = get_analyzer().analyze("ｶﾞｽ代を払う")
    assert morphs[0].surface == "ｶﾞｽ代" and morphs[0].terms[0] == "ガス代"


def test_tokenizer_is_safe_across_threads() -> None:
    a = get_analyzer()
    expected = a.terms("屋根の無料点検で高額な工事を契約した")
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(a.terms("屋根の無料点検で高額な工事を契約した")))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


def test_highlight_marks_matches_in_the_original_and_escapes_html() -> None:
    out = highlight("<b>ｻﾌﾞｽｸ</b>を解約したい", ["定期購入", "解約"])
    assert "&lt;b&gt;<mark>ｻﾌﾞｽｸ</mark>&lt;/b&gt;" in out
    assert "<mark>解約</mark>" in out
    assert highlight("x" * 500, [], width=20) == "x" * 20 + "…"


def test_char_bigrams_baseline() -> None:
    assert char_bigrams("解約、ＡＢ") == ["解約", "ab"]


def test_documents_index_the_parts_of_three_character_nouns() -> None:
    a = get_analyzer()
    assert {"期限内", "期限"} <= set(a.terms("期限内に出してください"))
    assert "内" not in a.terms("期限内に出してください")  # one-character parts add only noise
    assert "期限" in a.query_terms("期限を過ぎた")
    assert a.query_terms("期限内") == ["期限内"]  # a query's short noun stays one term
