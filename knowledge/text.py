"""Japanese text processing for search: NFKC, SudachiPy morphemes, stop parts of speech, synonyms.

``Analyzer.terms(text)`` turns a text into index terms; the same function serves documents and
queries, so both sides meet:

* NFKC first (full-width digits and letters, half-width katakana), keeping a map back to the
  original offsets for highlighting;
* SudachiPy (sudachidict_core) in split mode C, each morpheme by its ``normalized_form()`` so
  表記ゆれ meet (シュミレーション → シミュレーション, 10万 / 100,000 → 100000), plus the mode-A
  sub-units of compounds of three characters or more (期限内 → 期限内, 期限);
* stop parts of speech (助詞, 助動詞, 補助記号, ...) and a small stop list are dropped;
* adjacent nouns also give their compound (定期 + 購入 → 定期購入), and a number followed by 円
  gives an amount term (100000円);
* the editable synonym list (knowledge/data/synonyms.txt) adds the canonical term of a group
  wherever one of its variants occurs (サブスク → 定期購入);
* optionally, unknown words (Sudachi OOV) add character bigrams (``bigram_fallback``).

The Sudachi dictionary is loaded once per process; each thread gets its own tokenizer. What a
dictionary word contributes (its cleaned normalized form, part of speech, mode-A parts) is cached
per word id in each analyzer (bounded), so a text pays Sudachi and little else.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from sudachipy import Dictionary, SplitMode

DATA_DIR = Path(__file__).parent / "data"
STOP_POS = frozenset(
    {"助詞", "助動詞", "補助記号", "空白", "記号", "接続詞", "感動詞", "連体詞", "代名詞", "接頭辞"}
)
DEPENDENT_POS2 = frozenset({"非自立可能"})
CONTENT_NOUN = frozenset({"普通名詞", "固有名詞"})
BIGRAM_PREFIX = "〓"  # never produced by Sudachi for a kept token (it is a symbol)
MIN_SPLIT_CHARS = 3  # nouns this long also give their mode-A parts (期限内 → 期限, 相談員 → 相談)
QUERY_SPLIT_CHARS = 4
_Word = tuple[str, bool, bool, bool]  # term, content noun, noun, numeral (see Analyzer._word)
_STOP: _Word = ("", False, False, False)  # a dropped morpheme
_WORD_CACHE = 200_000  # dictionary words remembered per analyzer (then the cache starts over)
MAX_CHUNK = 4000  # characters per Sudachi call (its input limit is in bytes)
_ASCII_JUNK = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]")
_CHUNK_END = re.compile(r"[。！？!?\n]")

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()


def get_dictionary() -> Dictionary:
    """The process-wide Sudachi dictionary (expensive: loaded once, lazily)."""
    global _dictionary
    if _dictionary is None:
        with _dictionary_lock:
            if _dictionary is None:
                _dictionary = Dictionary(dict="core")
    return _dictionary


def _tokenizer():  # type: ignore[no-untyped-def]
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = get_dictionary().tokenizer(mode=SplitMode.C)
        _local.tokenizer = tok
    return tok


def normalize(text: str) -> str:
    """NFKC, the normalization used at every edge (display keeps the original)."""
    return unicodedata.normalize("NFKC", text)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """NFKC character by character, with ``offsets[i]`` = index in ``text`` of normalized char ``i``.

    Combining marks produced by half-width katakana (ｶﾞ) are composed into the previous character.
    Text already in NFKC (most stored text) is returned as is: character by character it is its own
    normalization (tests/unit/test_knowledge_text_analysis.py checks every BMP character).
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, list(range(len(text)))
    return _normalize_by_char(text)


def _normalize_by_char(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        norm, leads_combining = _char_nfkc(ch)
        if len(norm) == 1 and not leads_combining:
            out.append(norm)
            offsets.append(i)
            continue
        for j, c in enumerate(norm):
            if out and j == 0 and leads_combining:
                composed = unicodedata.normalize("NFC", out[-1] + c)
                if len(composed) == 1:
                    out[-1] = composed
                    continue
            out.append(c)
            offsets.append(i)
    return "".join(out), offsets


@lru_cache(maxsize=8192)
def _char_nfkc(ch: str) -> tuple[str, bool]:
    """NFKC of one character, and whether its first character is a combining mark."""
    norm = unicodedata.normalize("NFKC", ch)
    return norm, bool(norm) and bool(unicodedata.combining(norm[0]))


class Morph(NamedTuple):
    """A kept morpheme: its span in the ORIGINAL text and the index terms it contributes."""

    start: int
    end: int
    surface: str
    terms: tuple[str, ...]


@lru_cache(maxsize=65536)
def clean_term(term: str) -> str:
    """Lower-case ASCII and drop ASCII punctuation and invisible characters (so terms survive the
    store's tokenizer intact). Cached: a text repeats few distinct forms."""
    term = _ASCII_JUNK.sub("", term.lower())
    return "".join(c for c in term if unicodedata.category(c)[0] not in "CZ")


def _chunks(text: str) -> Iterable[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(len(text), start + MAX_CHUNK)
        if end < len(text):
            cut = max((m.end() for m in _CHUNK_END.finditer(text, start, end)), default=end)
            end = cut if cut > start else end
        yield start, text[start:end]
        start = end


@lru_cache(maxsize=4)
def load_word_list(path: Path) -> tuple[str, ...]:
    """Non-comment, non-blank lines of a data file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


class Analyzer:
    """Text → index terms (see the module docstring). Thread-safe; build one per process."""

    def __init__(
        self,
        synonyms_path: Path | None = DATA_DIR / "synonyms.txt",
        stopwords_path: Path | None = DATA_DIR / "stopwords.txt",
        *,
        query_stopwords_path: Path | None = DATA_DIR / "query_stopwords.txt",
        bigram_fallback: bool = False,
        compounds: bool = True,
    ) -> None:
        self.bigram_fallback = bigram_fallback
        self.compounds = compounds
        self._words: dict[int, _Word] = {}  # see _word
        self._split: dict[int, list[str]] = {}  # see _parts
        self.stopwords = frozenset(load_word_list(stopwords_path)) if stopwords_path else frozenset()
        self.query_stopwords = (
            frozenset(load_word_list(query_stopwords_path)) if query_stopwords_path else frozenset()
        )
        self.synonyms: dict[tuple[str, ...], str] = {}
        if synonyms_path is not None:
            self._load_synonyms(synonyms_path)

    def _load_synonyms(self, path: Path) -> None:
        for line in load_word_list(path):
            words = line.split()
            canonical = "".join(self._base_terms(words[0]))
            if not canonical:
                continue
            for word in words:
                key = tuple(self._base_terms(word))
                if key and "".join(key) != canonical:
                    self.synonyms[key] = canonical
        self._max_syn = max((len(k) for k in self.synonyms), default=0)
        self._syn_first = frozenset(k[0] for k in self.synonyms)

    def _base_terms(self, text: str) -> list[str]:
        return [m.terms[0] for m in self._morphs(text, with_extras=False)]

    def _morphs(self, text: str, *, with_extras: bool = True, query: bool = False) -> list[Morph]:
        norm, offsets = normalize_with_offsets(text)
        tok = _tokenizer()
        kept: list[Morph] = []
        prev_noun: str | None = None
        prev_num: str | None = None
        words = self._words
        split_chars = QUERY_SPLIT_CHARS if query else MIN_SPLIT_CHARS
        for base, chunk in _chunks(norm):
            for m in tok.tokenize(chunk):
                word = words.get(m.word_id()) if not m.is_oov() else None
                if word is None:
                    word = self._word(m)
                if word is _STOP:
                    prev_noun = prev_num = None
                    continue
                term, content_noun, noun, number = word
                b, e = m.begin(), m.end()
                if with_extras:
                    terms = [term]
                    if content_noun and prev_noun and self.compounds:
                        terms.append(prev_noun + term)
                    if prev_num and term == "円":
                        terms.append(prev_num + "円")
                    # documents index the parts of 3+ character nouns (so 期限 finds 期限内); a query
                    # splits only 4+ character ones (its short nouns stay one term, not weaker duplicates)
                    if noun and e - b >= split_chars:
                        terms += self._parts(m)
                    if self.bigram_fallback and e - b > 2 and m.is_oov():
                        surface = m.surface()
                        terms += [BIGRAM_PREFIX + surface[i : i + 2] for i in range(len(surface) - 1)]
                    unique = (term,) if len(terms) == 1 else tuple(dict.fromkeys(terms))
                else:
                    unique = (term,)
                b += base
                e += base
                start, end = offsets[b], (offsets[e - 1] + 1 if e > b else offsets[b])
                kept.append(Morph(start, end, text[start:end], unique))
                prev_noun = term if content_noun else None
                prev_num = term if number else None
        return kept

    def _word(self, m) -> _Word:  # type: ignore[no-untyped-def]
        """What a morpheme contributes, from its dictionary entry: ``_STOP`` (dropped) or (term,
        content noun, noun, numeral). Cached per word id for dictionary words (the same entry always
        has the same normalized form and part of speech); unknown words are computed each time."""
        pos = m.part_of_speech()
        term = clean_term(m.normalized_form())
        word: _Word
        if (
            pos[0] in STOP_POS
            or not term
            or term in self.stopwords
            or (pos[1] in DEPENDENT_POS2 and pos[0] in ("動詞", "形容詞"))
        ):
            word = _STOP
        else:
            noun = pos[0] == "名詞"
            word = (term, noun and pos[1] in CONTENT_NOUN, noun, pos[1] == "数詞")
        if not m.is_oov():
            if len(self._words) >= _WORD_CACHE:
                self._words.clear()  # bounded memory: rebuilt from the next texts
            self._words[m.word_id()] = word
        return word

    def _parts(self, m) -> list[str]:  # type: ignore[no-untyped-def]
        """The mode-A parts of a compound noun (two characters or more, not stop words); cached per
        word id for dictionary words."""
        oov = m.is_oov()
        if not oov:
            cached = self._split.get(m.word_id())
            if cached is not None:
                return cached
        parts = m.split(SplitMode.A)
        out: list[str] = []
        if len(parts) > 1:
            out = [
                t for p in parts if len(t := clean_term(p.normalized_form())) > 1 and t not in self.stopwords
            ]
        if not oov:
            if len(self._split) >= _WORD_CACHE:
                self._split.clear()
            self._split[m.word_id()] = out
        return out

    def analyze(self, text: str, *, query: bool = False) -> list[Morph]:
        """Kept morphemes with their terms, synonyms applied (the canonical term is added)."""
        morphs = self._morphs(text, query=query)
        if not self.synonyms:
            return morphs
        base = [m.terms[0] for m in morphs]
        out = list(morphs)
        first = self._syn_first
        for i in range(len(morphs)):
            if base[i] not in first:  # no synonym key starts here
                continue
            for n in range(min(self._max_syn, len(morphs) - i), 0, -1):
                canonical = self.synonyms.get(tuple(base[i : i + n]))
                if canonical is not None:
                    for j in range(i, i + n):
                        if canonical not in out[j].terms:
                            mj = out[j]
                            out[j] = Morph(mj.start, mj.end, mj.surface, (*mj.terms, canonical))
                    break
        return out

    def terms(self, text: str) -> list[str]:
        """All index terms of ``text`` in order, with repeats (term frequency matters for BM25)."""
        return [t for m in self.analyze(text) for t in m.terms]

    def query_terms(self, text: str) -> list[str]:
        """Distinct terms of a query, in order of first appearance, without question words
        (knowledge/data/query_stopwords.txt) unless nothing else is left."""
        terms = list(dict.fromkeys(t for m in self.analyze(text, query=True) for t in m.terms))
        content = [t for t in terms if t not in self.query_stopwords]
        return content or terms


def char_bigrams(text: str) -> list[str]:
    """Character-bigram terms (the classic baseline for Japanese search), over runs of word chars."""
    norm = normalize(text).lower()
    out: list[str] = []
    for run in re.findall(r"\w+", norm):
        run = clean_term(run)
        if len(run) == 1:
            out.append(run)
        out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


_default: Analyzer | None = None
_default_lock = threading.Lock()


def get_analyzer() -> Analyzer:
    """The process-wide default analyzer (data files read once)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Analyzer()
    return _default
