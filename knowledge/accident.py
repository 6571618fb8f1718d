"""Serious-accident (重大事故等, 消費者安全法 第12条) screening of a consultation text.

``screen(text)`` reads the text sentence by sentence (NFKC first) and applies the rules of
knowledge/data/accident_rules.json (validated at load, see knowledge/accident_rules.py):

* signals of severity — 死亡, 意識不明/窒息, 入院, 手術, 骨折, 切断, 後遺症, 神経損傷, treatment of 30 days
  or more (全治N日/週間/か月/年, arabic or kanji; in a treatment context also a prognosis: 半年かかる,
  三か月たっても治らない, 生えるまで4ヶ月) —, fire (火が出, 発火, 燃えた, 延焼…), CO poisoning, food or drink
  contaminated with a toxic substance (農薬が検出, 漂白剤が混入);
* a stated short course (全治2週間, 5日で退院して今は元気, 治療は1回で終了; up to ``short_treatment_max_days``)
  with nothing of 30 days or more moves 入院/手術/骨折/重傷 hits to review, unless treatment goes on;
* a negation or hypothetical cue in the same clause right after a match cancels it (火は出ていません,
  入院はせず, 入院したら); a near-miss cue (火が出そうになった, 燃えるところでした) moves it to review;
* who was harmed: injury signals do not count in a sentence about a pet only; 入院/手術/死亡 in a message
  that says neither how it happened (a cause cue) nor anything but a contract matter (解約, 返金…) go to
  review (「母が入院中なので解約したい」);
* blockers cancel hits in their sentence (effect ``suppress``: a sales topic, news/hearsay, an accident
  already reported or settled, a device that "died", cooking smoke) or move them to review (``review``: an
  unrelated illness, no product or service involved — a fall on the street, sports, a collision —, work
  (労災), flames put out without the fire brigade, a past accident as background, no injury stated);
  a blocker's ``unless_in_message`` keeps it from applying when the message names a product or a victim
  of the consumer's own family;
* a second opinion (knowledge/accident_model.py, a char n-gram logistic regression shipped as data) flags
  an unflagged text it is sure of and moves one it finds likely to review; it never demotes a flag.

Tiers: ``serious`` (flag the ticket and alert), ``review`` (要確認: possibly serious or a possible
消費者事故等 — smoke, scorching, a minor injury, a serious signal demoted by a near-miss cue, a missing cause
or a ``review`` blocker; a counselor confirms), ``none``.
``detect_serious_accident(text)`` keeps the old API: one reason per serious rule, naming the rule and the
words that fired. It is a screening aid; a supervisor decides.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from knowledge import accident_model
from knowledge.accident_rules import RULES_PATH, AccidentRules, Blocker, Rule, load_rules
from knowledge.text import get_dictionary, normalize

KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "両": 2,
}
KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"[0-9〇零一二三四五六七八九十百千両]+|ひと|ふた|半|数"
KANA_NUMBERS = {"ひと": 1.0, "ふた": 2.0, "半": 0.5, "数": 2.0}  # 数か月 counts as 2 months, 半年 as 0.5 year
UNIT = r"(日|週間|週|か月|ヵ月|ヶ月|カ月|ケ月|箇月|月|つき|年)(?!前|後|ぶり|ほど前|くらい前|ぐらい前)"
TREAT = (
    r"治療|加療|入院|通院|療養|安静|リハビリ|完治まで|完治に|治るまで|治るのに|治るには|治らな|回復まで|回復に"
    r"|(?:科|院|医者|歯医者|クリニック)に(?:通っ|かよっ)て|透析"
)
# "treatment N-period" / "N-period of treatment" (全治2か月, 加療8週, 3日入院, 治療にひと月)
DURATION = re.compile(
    rf"(?:全治|{TREAT})[^。\n]{{0,12}}?({NUM})\s*{UNIT}"
    rf"|({NUM})\s*{UNIT}[^。\n]{{0,6}}?(?:の|も|ほど|くらい|間|以上)?[^。\n]{{0,6}}?"
    rf"(?:{TREAT}|けが|怪我|重傷|通っ|通い|かよっ|通う(?:て|た))"  # 通うてる: Kansai for 通ってる
)
# a short stated course: a total (全治3週間, 加療10日) or healed after N (2日で良くなった, 1週間で退院して元気)
SHORT_COURSE = re.compile(
    rf"(?:全治|加療|治療期間|治療(?:に|は|が))[^。\n]{{0,6}}?({NUM})\s*{UNIT}"
    rf"|({NUM})\s*{UNIT}(?:ほど|くらい|ぐらい|程度)?で[^。、\n]{{0,8}}?(?:良く|よく|治|なお|回復|完治|元に|普通に|終了)"
    # an admission of N, then recovered (1週間で退院して元気, 3日入院しました。今は元気です)
    rf"|({NUM})\s*{UNIT}(?:ほど|くらい|ぐらい|程度|間)?(?:だけ)?[ねよ、]*(?:で)?(?:退院|入院)[^\n]{{0,24}}?"
    rf"(?:普通に|元気|問題な|完治|治り|治っ|良くな|よくな|回復し|(?:数値|値|体調)(?:も|が)?(?:戻|もど)っ)"
)
# a prognosis: 半年かかる, 三か月たっても治らない, 生えるまで半年; counted only in a treatment context
PROGNOSIS = re.compile(
    rf"({NUM})\s*{UNIT}(?:以上|ほど|くらい|ぐらい|近く|程度)?(?:は|も)?"
    rf"(?:かかる|かかり|かかっ|必要|を要|続い|続け|つづい)(?:そう)?"  # かかるそうです: what the doctor said
    # 三か月たっても治らない: the negation that follows belongs to the prognosis (consumed to the clause end)
    rf"|({NUM})\s*{UNIT}(?:以上)?(?:たっても|経っても|経過しても|過ぎても|すぎても"
    rf"|(?:たった|経った|経過した|過ぎた)(?:今|いま)(?:でも|も)|(?:たって|経って)(?:いる|います)?のに)[^。\n]*"
    rf"|(?:生える|はえる|治る|なおる|戻る|もどる|終わる|おわる|良くなる|よくなる|回復する)まで(?:に|は|で)?"
    rf"[^。\n]{{0,4}}?({NUM})\s*{UNIT}"
    # 入院しました。もう五週間になります / しびれとって、もう半年になる: the time elapsed since
    rf"|(?:^|[、,]|(?<=[てで]))(?:もう|すでに|既に|あれから|それから)({NUM})\s*{UNIT}(?:目)?(?:に|が)?(?:なり|なる|なっ|たち|経ち|過ぎ|です|だ|なの|なん)"
    # 半年以上この状態です: a harm that has lasted N
    rf"|({NUM})\s*{UNIT}(?:以上|近く)?(?:も)?(?:この|その|同じ)(?:状態|まま)"
)
# a prognosis of something that is not a treatment (修理に2か月かかる, 返金まで半年)
NOT_TREATMENT = re.compile(
    r"修理|配送|届|納品|返金|工事|発送|交換|返事|回答|連絡|解約|契約|手続|審査|入荷|予約|注文|申し?込|購入|待|調査|点検|送って"
)
SUDACHI_MAX = 4000  # characters of a sentence given to Sudachi (its input limit is in bytes)
_local = threading.local()
SPACES = re.compile(r"\s+")
# 「火事？って思って」 is one sentence: a question quoted as a thought does not end it
SENTENCE_END = re.compile(r"[。．！？!?\n]+(?!って|と(?:思|おも))|[\U0001F000-\U0001FAFF\u2600-\u27BF]+")


@dataclass(frozen=True)
class Hit:
    """One rule that fired: its id, label, tier, the words matched and the sentence they were in."""

    rule: str
    label: str
    tier: str
    words: tuple[str, ...]
    sentence: str
    # set when a serious signal was moved to review: the near-miss cue, the blocker id or "no cause"
    why: str = ""


@dataclass(frozen=True)
class Suppressed:
    """A match that did not count, and why (a negation cue, a blocker id, ``pet`` or ``no cause``)."""

    rule: str
    word: str
    why: str


@dataclass
class Screening:
    """The outcome for one text: tier (serious | review | none), the hits and the suppressed matches."""

    tier: str = "none"
    hits: list[Hit] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    probability: float | None = None  # the second-opinion model's P(serious), when it ran
    # blockers that applied to some sentence and keep the classifier from flagging: every suppress blocker
    # (a sales topic, hearsay, already reported…) and a review blocker with ``stops_promotion``
    blockers: list[str] = field(default_factory=list)

    def reasons(self, tier: str = "serious") -> list[str]:
        """Human-readable reasons for the hits of ``tier``: label, rule id and the words that fired."""
        return [
            f"{h.label} [rule {h.rule}]: "
            + "".join(f"「{w}」" for w in h.words)
            + (f" (要確認: {h.why})" if h.why else "")
            for h in self.hits
            if h.tier == tier
        ]


def kanji_to_int(s: str) -> int | None:
    """Arabic or kanji numerals (三十, 二十五, 一〇〇) to an int; None when it is not a number."""
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in KANJI_DIGITS:
            current = current * 10 + KANJI_DIGITS[ch] if current else KANJI_DIGITS[ch]
        elif ch in KANJI_UNITS:
            total += (current or 1) * KANJI_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def _period(num: str, unit: str) -> int | None:
    n = KANA_NUMBERS.get(num, kanji_to_int(num))
    if n is None:
        return None
    month = "月" in unit or unit == "つき"
    return int(n * 7 if unit.startswith("週") else n * 365 if unit == "年" else n * 30 if month else n)


def _durations(text: str, prognosis: bool = False) -> list[tuple[str, int]]:
    """(words, days) of each treatment period in ``text``; with ``prognosis`` also 半年かかる and the like."""
    out: list[tuple[str, int]] = []
    found = list(DURATION.finditer(text))
    if prognosis:
        found += [
            m
            for m in PROGNOSIS.finditer(text)
            if not NOT_TREATMENT.search(text[max(0, m.start() - 16) : m.start()])
        ]
    for m in found:
        groups = [g for g in m.groups() if g is not None]
        days = _period(groups[0], groups[1]) if len(groups) >= 2 else None
        if days is not None:
            out.append((m.group(), days))
    return out


def treatment_days(text: str, rules_path: Path = RULES_PATH) -> int | None:
    """The longest treatment period mentioned (in days), or None; a prognosis counts in a treatment context."""
    norm = normalize(text)
    found = [days for _, days in _durations(norm, bool(_compiled(rules_path).treatment.search(norm)))]
    return max(found) if found else None


@dataclass(frozen=True)
class _Compiled:
    rules: AccidentRules
    clause_break: re.Pattern[str]
    negation: re.Pattern[str]
    near_miss: re.Pattern[str]
    near_miss_before: re.Pattern[str]
    near_miss_unless: re.Pattern[str]
    event_negation: re.Pattern[str]
    event_hedge: re.Pattern[str]
    hedge: re.Pattern[str]
    person: re.Pattern[str]
    pet: re.Pattern[str]
    cause: re.Pattern[str]
    contract: re.Pattern[str]
    patterns: dict[str, re.Pattern[str]]
    blockers: dict[str, re.Pattern[str]]
    blocker_sentence: dict[str, re.Pattern[str] | None]
    blocker_unless: dict[str, re.Pattern[str] | None]
    blocker_unless_message: dict[str, re.Pattern[str] | None]
    treatment: re.Pattern[str]
    short_treatment: re.Pattern[str]
    ongoing_treatment: re.Pattern[str]
    denied: re.Pattern[str]
    stops_promotion: frozenset[str]
    short_admission: re.Pattern[str]


def _alt(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) if patterns else r"(?!x)x")


@lru_cache(maxsize=4)
def _compiled(path: Path = RULES_PATH) -> _Compiled:
    rules = load_rules(path)
    return _Compiled(
        rules=rules,
        clause_break=re.compile(rules.clause_breaks),
        negation=_alt(rules.negations),
        near_miss=_alt(rules.near_miss),
        near_miss_before=_alt(rules.near_miss_before),
        near_miss_unless=re.compile(rules.near_miss_unless),
        event_negation=_alt(rules.event_negations),
        event_hedge=_alt(rules.event_hedges),
        hedge=_alt(rules.hedges),
        person=re.compile(rules.person_cues),
        pet=re.compile(rules.pet_cues),
        cause=re.compile(rules.cause_cues),
        contract=re.compile(rules.contract_cues),
        patterns={r.id: _alt(r.patterns) for r in rules.rules},
        blockers={b.id: _alt(b.patterns) for b in rules.blockers},
        blocker_sentence={
            b.id: re.compile(b.requires_in_sentence) if b.requires_in_sentence else None
            for b in rules.blockers
        },
        blocker_unless={b.id: re.compile(b.unless) if b.unless else None for b in rules.blockers},
        blocker_unless_message={
            b.id: re.compile(b.unless_in_message) if b.unless_in_message else None for b in rules.blockers
        },
        treatment=re.compile(rules.treatment_context),
        short_treatment=_alt(rules.short_treatment_cues),
        ongoing_treatment=re.compile(rules.ongoing_treatment_cues),
        denied=re.compile(rules.denied_mentions),
        stops_promotion=frozenset(b.id for b in rules.blockers if b.stops_promotion),
        short_admission=_alt(rules.short_admission_cues),
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of an NFKC text: split at 。！？, newlines and emoji (LINE messages use them as stops)."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def noun_normalized(sentence: str) -> str:
    """The sentence with each noun replaced by its Sudachi normalized form (にゅういん→入院, ケガ→怪我).

    Verbs and endings keep their surface, so the conjugation-aware patterns and negations still apply;
    so do kana nouns of one or two characters (the dialect negation へん is not 変).
    """
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = _local.tokenizer = get_dictionary().tokenizer()
    out: list[str] = []
    for m in tok.tokenize(sentence[:SUDACHI_MAX]):
        norm = m.normalized_form()
        surface = m.surface()
        short_kana = len(surface) <= 2 and all("\u3041" <= ch <= "\u309f" for ch in surface)
        out.append(norm if m.part_of_speech()[0] == "名詞" and norm and not short_kana else surface)
    return "".join(out) + sentence[SUDACHI_MAX:]


def _clause_tail(c: _Compiled, sentence: str, end: int) -> str:
    tail = sentence[end : end + c.rules.negation_window]
    stop = c.clause_break.search(tail)
    return tail[: stop.start()] if stop else tail


# an event happens or not (火事になりますか is a question); a treatment or prognosis is stated as real
EVENT_KINDS = ("fire", "fire_sign", "co", "contamination")


def _negated(c: _Compiled, sentence: str, end: int, kind: str) -> str | None:
    tail = _clause_tail(c, sentence, end)
    m = c.negation.search(tail) or (c.event_negation.search(tail) if kind in EVENT_KINDS else None)
    return m.group() if m else None


def _clause_head(c: _Compiled, sentence: str, start: int) -> str:
    head = sentence[max(0, start - c.rules.negation_window) : start]
    breaks = list(c.clause_break.finditer(head))
    return head[breaks[-1].end() :] if breaks else head


def _near_miss(c: _Compiled, sentence: str, span: tuple[int, int], kind: str) -> str | None:
    hedge = c.hedge.search(_clause_tail(c, sentence, span[1]))
    if hedge:  # 骨折してるかも、今病院: still a guess, whatever the sentence says of hospitals
        return f"hedged 「{hedge.group()}」"
    if c.near_miss_unless.search(sentence):  # 中毒になりかけて病院に運ばれた: the harm happened
        return None
    tail = _clause_tail(c, sentence, span[1])
    m = (
        c.near_miss.search(tail)
        or c.near_miss_before.search(_clause_head(c, sentence, span[0]))
        or (c.event_hedge.search(tail) if kind in EVENT_KINDS else None)
    )
    return f"near miss 「{m.group()}」" if m else None


@dataclass(frozen=True)
class _Context:
    """What a sentence says around its matches: blocked/demoted kinds, who was harmed, whether a cause is given."""

    blocked: dict[str, str]
    demoted: dict[str, str]
    person_named: bool
    pet_only: bool
    weak_cause: bool
    treatment: bool  # the message talks about a treatment or an injury: a prognosis (半年かかる) counts


def _sentence_views(sentence: str) -> list[str]:
    views = [sentence]
    for view in (noun_normalized(sentence), SPACES.sub("", sentence)):  # LINE users space out words
        if view not in views:
            views.append(view)
    return views


def _blocks(
    c: _Compiled, context: str, message_blockers: list[Blocker], affirmed: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Kinds cancelled (``suppress`` blockers) and kinds moved to review (``review`` blockers) in a sentence."""
    blocked: dict[str, str] = {}
    demoted: dict[str, str] = {}
    for b in c.rules.blockers:
        unless = c.blocker_unless[b.id]
        if unless is not None and unless.search(context):
            continue
        unless_message = c.blocker_unless_message[b.id]
        if unless_message is not None and unless_message.search(affirmed):
            continue
        if b.scope == "sentence":
            applies = bool(c.blockers[b.id].search(context))
        else:
            need = c.blocker_sentence[b.id]
            applies = b in message_blockers and (need is None or bool(need.search(context)))
        if applies:
            target = blocked if b.effect == "suppress" else demoted
            target.update({k: b.id for k in b.kinds if k not in target})
    return blocked, demoted


def _matches(
    c: _Compiled, rule: Rule, views: list[str], prognosis: bool
) -> list[tuple[str, str, tuple[int, int]]]:
    out: list[tuple[str, str, tuple[int, int]]] = []
    for view in views:
        if rule.kind == "duration":
            long = [w for w, days in _durations(view, prognosis) if days >= c.rules.duration_threshold_days]
            out += [(view, w, (view.find(w), view.find(w) + len(w))) for w in long]
        else:
            out += [(view, m.group(), m.span()) for m in c.patterns[rule.id].finditer(view)]
    return out


def _judge_rule(
    c: _Compiled, rule: Rule, sentence: str, views: list[str], ctx: _Context, result: Screening
) -> None:
    """Append the rule's hits in ``sentence`` (and the suppressed matches) to ``result``."""
    words: list[str] = []
    review: dict[str, str] = {}
    for view, word, span in _matches(c, rule, views, ctx.treatment):
        near = _near_miss(c, view, span, rule.kind)
        why = (
            (None if near else _negated(c, view, span[1], rule.kind))
            or ctx.blocked.get(rule.kind)
            or ("pet" if "person" in rule.needs and ctx.pet_only else None)
            or ("no person" if "person_named" in rule.needs and not ctx.person_named else None)
        )
        demote = (
            near
            or ctx.demoted.get(rule.kind)
            or ("no cause" if "cause" in rule.needs and ctx.weak_cause else None)
        )
        if why:
            result.suppressed.append(Suppressed(rule.id, word, why))
        elif demote and rule.tier == "serious":
            review.setdefault(word, demote)
        elif word not in words:
            words.append(word)
    if words:
        result.hits.append(Hit(rule.id, rule.label, rule.tier, tuple(words), sentence))
    review = {w: why for w, why in review.items() if w not in words}
    if review:
        why = "; ".join(dict.fromkeys(review.values()))
        result.hits.append(Hit(rule.id, rule.label, "review", tuple(review), sentence, why))


def _stated_periods(pattern: re.Pattern[str], text: str) -> list[tuple[str, int]]:
    """(words, days) of each match of ``pattern`` (a number group, then a unit group) in ``text``."""
    out: list[tuple[str, int]] = []
    for m in pattern.finditer(text):
        groups = [g for g in m.groups() if g is not None]
        days = _period(groups[0], groups[1])
        if days is not None:
            out.append((m.group(), days))
    return out


def _short_treatment(c: _Compiled, norm: str, views: list[str], treatment: bool) -> str | None:
    """The words stating a short course of treatment, when the message states one and nothing longer.

    An admission period (2週間入院) is not a course: treatment goes on after discharge. A course up to
    ``short_treatment_max_days`` counts (28: 全治4週間 is under the law's 30 days, so 要確認, not a flag).
    """
    if any(d >= c.rules.duration_threshold_days for v in views for _, d in _durations(v, treatment)):
        return None
    courses = {w: d for v in [norm, *views] for w, d in _stated_periods(SHORT_COURSE, v)}
    if any(d > c.rules.short_treatment_max_days for d in courses.values()):
        return None
    short = list(courses) + [m.group() for v in views for m in c.short_treatment.finditer(v)]
    if not short:
        return None
    # still being treated: only a stated total (全治3週間) is short for sure
    if c.ongoing_treatment.search(norm) and not any(w.startswith("全治") for w in short):
        return None
    return short[0]


def _second_opinion(result: Screening, norm: str, short_course: str | None, pet_only: bool = False) -> None:
    """Let the shipped model raise an unflagged text (see knowledge/accident_model.py); it never demotes a flag.

    Very likely (``PROMOTE_AT``) → serious, naming the words that weighed most, unless the message states a
    short course (全治10日, 1週間で退院して元気), a suppress blocker applied (a sales topic, hearsay, already
    reported: the text says it reports no new accident), a review blocker with ``stops_promotion`` (a
    flame put out without the fire brigade) or ``pet_only`` (the message names a pet and no person). Other review blockers (no product involved, work, traffic) do
    not stop it: the rules are unsure there and send it to a counselor anyway. Likely
    (``REVIEW_AT``) → 要確認.
    """
    model = accident_model.load_model()
    if model is None:
        return
    p = result.probability = round(model.probability(norm), 3)
    if any(h.tier == "serious" for h in result.hits):
        return
    if p >= accident_model.PROMOTE_AT and not short_course and not result.blockers and not pet_only:
        result.hits.append(
            Hit(
                "classifier",
                "分類器の判定 (classifier: likely serious though no rule fired; a supervisor confirms)",
                "serious",
                tuple(model.evidence(norm)) or (f"p={p}",),
                norm[:80],
            )
        )
    elif p >= accident_model.REVIEW_AT:
        result.hits.append(
            Hit(
                "classifier",
                "分類器の二次判定 (classifier second opinion: possibly serious)",
                "review",
                (f"p={p}",),
                norm[:80],
                f"the rules found no serious signal, the classifier gives p={p}",
            )
        )


def screen(text: str, rules_path: Path = RULES_PATH, second_opinion: bool = True) -> Screening:
    """Screen ``text`` for 重大事故等 (tier serious) or a possible 消費者事故等 (tier review).

    With ``second_opinion`` the shipped classifier (knowledge/accident_model.py) may move the text to
    要確認 either way; the rules alone decide the serious tier.
    """
    result = Screening()
    if not text or not text.strip():
        return result
    c = _compiled(rules_path)
    norm = normalize(text)
    sentences = [(sentence, _sentence_views(sentence)) for sentence in split_sentences(norm)]
    all_views = [v for _, views in sentences for v in views]
    whole = "\n".join([norm, *all_views])
    # the products the message names: not those it denies (不具合の申出はなし) nor those a seller pitches
    hiding = [b for b in c.rules.blockers if b.hides_products]
    affirmed = c.denied.sub(
        "",
        "\n".join(
            v
            for _, views in sentences
            if not any(c.blockers[b.id].search("\n".join(views)) for b in hiding)
            for v in views
        ),
    )
    message_blockers = [
        b
        for b in c.rules.blockers
        if b.scope == "message"
        and c.blockers[b.id].search(norm)
        and not ((u := c.blocker_unless_message[b.id]) is not None and u.search(affirmed))
    ]
    has_cause = any(c.cause.search(c.denied.sub("", v)) for v in all_views)  # 事故ではありません: no cause
    # no cause given: only a message about a contract (解約, 返金…) moves 入院/手術/死亡 to review
    weak_cause = not has_cause and bool(c.contract.search(norm))
    treatment = bool(c.treatment.search(whole))
    # a sentence naming no one (治療に2か月かかる) is about the pet when the message names only a pet
    pet_message = bool(c.pet.search(norm)) and not c.person.search(norm)
    for sentence, views in sentences:
        context = "\n".join(views)
        blocked, demoted = _blocks(c, context, message_blockers, affirmed)
        # a blocker of fire signs only (cooking smoke) says nothing of an injury or CO: it does not stop a flag
        stopping = [
            *(b for k, b in blocked.items() if k not in ("fire_sign",)),
            *(b for b in demoted.values() if b in c.stops_promotion),
        ]
        result.blockers += [b for b in dict.fromkeys(stopping) if b not in result.blockers]
        person_named = bool(c.person.search(context))
        pet_only = (bool(c.pet.search(context)) or pet_message) and not person_named
        ctx = _Context(blocked, demoted, person_named, pet_only, weak_cause, treatment)
        for rule in c.rules.rules:
            _judge_rule(c, rule, sentence, views, ctx, result)
    short = _short_treatment(c, norm, all_views, treatment)
    if short:
        demote = set(c.rules.short_treatment_rules)
        why = f"short treatment stated 「{short}」"
        result.hits = [
            replace(h, tier="review", why=why) if h.tier == "serious" and h.rule in demote else h
            for h in result.hits
        ]
    admission = None if c.ongoing_treatment.search(norm) else c.short_admission.search(whole)
    if admission:
        why = f"short admission stated 「{admission.group()}」"
        result.hits = [
            replace(h, tier="review", why=why) if h.tier == "serious" and h.rule == "admitted" else h
            for h in result.hits
        ]
    if second_opinion:
        _second_opinion(result, norm, short or (admission.group() if admission else None), pet_message)
    tiers = {h.tier for h in result.hits}
    result.tier = "serious" if "serious" in tiers else "review" if "review" in tiers else "none"
    return result


def detect_serious_accident(text: str) -> list[str]:
    """Reasons to suspect a 重大事故等 in ``text``, one per rule (a supervisor confirms; nothing is decided)."""
    screening = screen(text)
    merged: dict[str, tuple[str, list[str]]] = {}
    for h in screening.hits:
        if h.tier != "serious":
            continue
        label, words = merged.setdefault(h.rule, (h.label, []))
        words.extend(w for w in h.words if w not in words)
    return [
        f"{label} [rule {rule}]: " + "".join(f"「{w}」" for w in words)
        for rule, (label, words) in merged.items()
    ]


def detect_possible_accident(text: str) -> list[str]:
    """要確認 reasons: signals a counselor must confirm (review tier), empty when the text is flagged serious.

    Counted as a flag for recall in bench/accident_quality.py (``flag_or_review``); shown in the suggestions.
    """
    screening = screen(text)
    return [] if screening.tier == "serious" else screening.reasons("review")


def detect_check_needed(text: str) -> list[str]:
    """The rules' 要確認 reasons, which open a check a counselor must close (crm.accident_checks).

    The classifier's second opinion alone (p 0.35–0.7) does not: on 841 contract consultations of the
    suggestion and FAQ sets it sent 79 texts (9 %) to 要確認, the rules 24 (3 %).
    """
    screening = screen(text)
    if screening.tier == "serious":
        return []
    return [
        r
        for h, r in zip(_review_hits(screening), screening.reasons("review"), strict=True)
        if h.rule != "classifier"
    ]


def _review_hits(screening: Screening) -> list[Hit]:
    return [h for h in screening.hits if h.tier == "review"]
