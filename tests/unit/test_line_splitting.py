"""LINE counts UTF-16 code units; long replies are cut at sentence ends, ≤ 5 objects a request."""

from __future__ import annotations

from channels.line.splitting import MAX_TEXT_UNITS, batches, split_text, utf16_len


def test_utf16_length_counts_surrogate_pairs_and_zwj_sequences() -> None:
    assert utf16_len("相談") == 2
    assert utf16_len("𠮷") == 2  # outside the BMP: a surrogate pair
    assert utf16_len("😀") == 2
    assert utf16_len("👨‍👩‍👧") == 8  # three emoji + two zero-width joiners
    assert utf16_len("𠮷野家") == 4


def test_short_text_is_one_part_unchanged() -> None:
    assert split_text("解約したいです。") == ["解約したいです。"]


def test_20000_japanese_characters_split_at_sentence_ends() -> None:
    sentence = "定期購入の解約を申し出ましたが、事業者と連絡が取れません。"  # 29 characters
    text = sentence * 690  # 20,010 characters
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(utf16_len(p) <= MAX_TEXT_UNITS for p in parts)
    assert all(p.endswith("。") for p in parts)  # never cut inside a sentence
    assert len(parts) == 5
    assert [len(b) for b in batches(parts)] == [5]


def test_emoji_heavy_text_counts_double_and_needs_two_requests() -> None:
    text = ("返金😢😢😢😢😢😢！" * 2000) + "よろしくお願いします。"  # 18,011 characters, 30,011 units
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(utf16_len(p) <= MAX_TEXT_UNITS for p in parts)
    assert len(parts) > 5
    requests = batches(parts)
    assert len(requests) == 2 and all(1 <= len(r) <= 5 for r in requests)


def test_newlines_are_boundaries_too() -> None:
    line = "あ" * 3000 + "\n"
    parts = split_text(line * 3)
    assert parts == [line, line, line]


def test_one_sentence_longer_than_the_limit_is_cut_without_breaking_clusters() -> None:
    family = "👨‍👩‍👧"
    text = "𠮷" + family * 1000  # no sentence end at all
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(utf16_len(p) <= MAX_TEXT_UNITS for p in parts)
    for p in parts:  # no part starts or ends in the middle of a ZWJ sequence
        assert not p.startswith("\u200d") and not p.endswith("\u200d")
        assert p.count(family) * 8 == utf16_len(p) - (2 if p.startswith("𠮷") else 0)


def test_variation_selectors_stay_with_their_character() -> None:
    text = "❤️" * 4000  # heart + VS16, 2 units each
    parts = split_text(text)
    assert all(not p.startswith("\ufe0f") for p in parts)
    assert "".join(parts) == text


def test_whitespace_only_pieces_are_dropped() -> None:
    assert split_text("") == []
    assert split_text("\n\n\n") == []
