"""Serious-accident screening rules (knowledge/accident.py, knowledge/data/accident_rules.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.accident import detect_serious_accident, screen, split_sentences
from knowledge.accident_rules import RULES_PATH, AccidentRulesError, load_rules, parse_rules


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        # the two misses of issue 15
        ("電気ストーブから火が出て子どもがやけどをして入院した", {"fire", "admitted"}),
        ("折りたたみ椅子で息子の指が切断され、手術しました", {"amputation", "surgery"}),
        # bought through a sales method is not a sales pitch: the product still caught fire
        ("訪問販売で買ったストーブから出火して、父が全治２か月のやけど", {"fire", "duration_30"}),
        # the demo message, and the same event as a counselor's phone memo and as a LINE message
        ("ストーブから火が出て母がやけどで入院しました", {"fire", "admitted"}),
        ("相談者の母、ストーブ発火で火傷、入院中", {"fire", "admitted"}),
        ("すとーぶからひがでた！！😱", {"fire"}),
        ("給湯器の不完全燃焼で一酸化炭素中毒になった", {"co_poisoning"}),
        ("脚立から落ちて全治２か月のけが", {"duration_30"}),
        ("エステの脱毛でやけどをし、治療に1年かかると言われました", {"duration_30"}),
        ("じてんしゃのハンドルとれて転んで骨せつしたー🤕", {"fracture"}),
    ],
)
def test_serious_events_are_flagged_by_the_expected_rules(text: str, rules: set[str]) -> None:
    result = screen(text)
    assert result.tier == "serious"
    assert rules <= {h.rule for h in result.hits if h.tier == "serious"}, result


@pytest.mark.parametrize(
    "text",
    [
        # the three false alarms of issue 15
        "火災保険の勧誘の電話が何度もかかってきて困っています。",
        "一酸化炭素警報器を買わないと中毒になると言われて、3万円で買わされました。",
        "3年前のストーブの火事で母が入院した件は、もう報告してあります。今日は給付金詐欺の相談です",
        # other hard negatives
        "医療保険の勧誘で「入院したら1日1万円」と言われて契約してしまいました。",
        "ニュースで電気毛布の発火事故を見ました。うちのも同じ型ですが大丈夫でしょうか。",
        "電気ストーブでうちの犬がやけどをしてしまい、動物病院に入院しました。",
        "母が入院中なので、代わりに解約の手続きをしたいです。",
        "魚を焼いていて煙が出て、火災報知器が鳴ってしまいました。火事ではありません",
        "給湯器から水漏れして床が水浸しになりました。けが人はいません",
        "死亡保険を解約したい",
        "火災にはならなかった",
    ],
)
def test_hard_negatives_are_not_flagged(text: str) -> None:
    assert detect_serious_accident(text) == [], screen(text)


@pytest.mark.parametrize(
    "text",
    [
        "モバイルバッテリーから煙が出たのですぐにコンセントを抜きました。火は出ていません。",
        "ヘアアイロンで首をやけどして、全治2週間です",
        "踏み台で子どもがけがをしましたが、入院はせず通院で済みました。",
    ],
)
def test_minor_accidents_go_to_review_without_the_serious_label(text: str) -> None:
    result = screen(text)
    assert result.tier == "review" and detect_serious_accident(text) == [], result


def test_negation_in_the_same_clause_cancels_and_is_explained() -> None:
    result = screen("充電器から火は出ていませんが、焦げ臭いです")
    assert "fire" not in {h.rule for h in result.hits}
    assert any(s.rule == "fire" and "ませ" in s.why for s in result.suppressed)


def test_each_flag_names_its_rule_and_the_words_that_fired() -> None:
    reasons = detect_serious_accident("ストーブから火が出て母がやけどで入院しました")
    assert any("[rule fire]" in r and "「火が出」" in r and "火災" in r for r in reasons), reasons
    assert any("[rule admitted]" in r and "「入院」" in r for r in reasons), reasons
    hit = next(h for h in screen("父が自転車で転んで骨折した").hits if h.rule == "fracture")
    assert hit.words == ("骨折",) and hit.sentence == "父が自転車で転んで骨折した"


@pytest.mark.parametrize(
    ("text", "rule", "word"),
    [
        ("こどもがけがしてしゅじゅつした", "surgery", "手術"),
        ("ケガして こっせつしちゃった", "fracture", "骨折"),
        ("母がやけどしてにゅういん", "admitted", "入院"),
    ],
)
def test_kana_spellings_match_through_sudachi_normalized_nouns(text: str, rule: str, word: str) -> None:
    hit = next(h for h in screen(text).hits if h.rule == rule)
    assert word in hit.words


def test_long_ago_but_never_reported_is_still_serious() -> None:
    text = "去年、電気毛布から火が出て母がやけどしましたが、どこにも相談していませんでした。"
    assert screen(text).tier == "serious"


def test_sentences_split_at_stops_and_emoji() -> None:
    assert split_sentences("火でた😱 床こげた。もう大丈夫") == ["火でた", "床こげた", "もう大丈夫"]


def _rules_json() -> dict:
    return json.loads(RULES_PATH.read_text(encoding="utf-8"))


def test_shipped_rules_file_is_valid() -> None:
    rules = load_rules()
    assert {"death", "fire", "co_poisoning", "duration_30", "admitted"} <= {r.id for r in rules.rules}


def test_misspelt_key_fails_with_a_clear_message() -> None:
    data = _rules_json()
    data["rules"][0]["patern"] = data["rules"][0].pop("patterns")
    with pytest.raises(
        AccidentRulesError, match=r"accident_rules\.json: .*rules\.0\.patern: unknown key \(misspelt\?\)"
    ):
        parse_rules(json.dumps(data), source="accident_rules.json")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["rules"][0].update(tier="urgent"), r"rules\.0\.tier"),
        (lambda d: d["rules"][0]["patterns"].append("火(が"), r"invalid regex"),
        (lambda d: d["blockers"][0].update(scope="paragraph"), r"blockers\.0\.scope"),
        (lambda d: d.pop("negations"), r"negations: Field required"),
        (lambda d: d["rules"].append(dict(d["rules"][0])), r"duplicate rule ids: death"),
    ],
)
def test_invalid_rules_are_refused(mutate: Callable[[dict], object], message: str) -> None:
    data = _rules_json()
    mutate(data)
    with pytest.raises(AccidentRulesError, match=message):
        parse_rules(json.dumps(data))


def test_garbage_rules_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(AccidentRulesError, match=r"rules\.json: not valid JSON"):
        load_rules(bad)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "😀" * 5000, "火" * 20000])
def test_garbage_and_oversized_input_do_not_crash(text: str) -> None:
    assert screen(text).tier in {"none", "review", "serious"}


# ---- v4: wider vocabulary, near misses, event questions, blockers that demote or do not apply ----


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ヒーターのせいでボヤになって、消防車が来ました", "fire"),
        ("延長コードが火を噴いて、床に燃え移った", "fire"),
        ("キャンプ用のランタンから火柱が上がった", "fire"),
        ("バイクのエンジン付近から炎上し、全焼しました", "fire"),
        ("コンセントの火ぃついてしもて、畳がこげた", "fire"),
        ("祖母が電気毛布の低温やけどがもとで息を引き取りました", "death"),
        ("ベビーベッドの柵に挟まって、息子が息をしていませんでした", "unconscious"),
        ("遊具のロープが切れて娘が落ち、まだ意識が戻っていません", "unconscious"),
        ("スケボーのウィールが外れて、手首にギプスをしています", "fracture"),
        ("ジムのマシンのワイヤーが切れて腰の骨にヒビが入った", "fracture"),
        ("トランポリンでアキレス腱を断裂しました", "severe_injury"),
        ("電気カーペットで80代の父が低温やけど、救急搬送→入院", "admitted"),
        ("エステの施術でやけどし、治るまでひと月以上かかると言われた", "duration_30"),
        ("草刈り機の刃で足の指を二本切り落としてしまった", "amputation"),
        ("ミキサーで指の腱を切り、指が曲がらないまま治らないと言われた", "disability"),
        ("通販のサプリで母が入院", "admitted"),
        ("相談者（70代女性）電気あんかで低温熱傷Ⅲ度", "severe_injury"),
        ("死にかけた、ストーブの排気で一酸化炭素", "co_poisoning"),
        ("裁断機に手が巻き込まれて、指が3本取れてしまいました", "amputation"),
        ("ばあちゃんが草刈り機で指落どした", "amputation"),
        ("遊具から落ちて、腰から下が動かんようになった", "disability"),
        ("アイプチの液が入って左目が見えなくなってしまった、もう治らんらしい", "disability"),
        ("つけまつげの接着剤で、右目しつめいしたって言われた", "disability"),
        ("給湯器の排気で主人が倒れて、病院で一酸化炭素だって言われました", "co_poisoning"),
        ("古いガスストーブで父が一酸化炭素すって救急車", "co_poisoning"),
        ("縮毛矯正の薬で頭がただれて、三か月たっても髪が生えてこーへん", "disability"),
        ("ばっちゃ、デイサービスで出た餅さ詰まらせで亡ぐなった", "death"),
        ("遊園地のブランコのチェーンが切れて、息子は意識が戻らずICUにいます", "unconscious"),
        ("スノーボード教室のジャンプ台の設計ミスで転落、脊髄損傷と言われました", "severe_injury"),
        ("まつげパーマの薬剤で目がただれて、眼科に通って3か月たつのにまだ治らない", "long_course"),
        ("歯科で親知らずを抜かれてから舌のしびれが半年とれない", "long_course"),
        ("こたつの布団に火が移って、和室の天井まで焼けた", "fire"),
        ("車中泊で七輪を使って、夫が朝起きなかった。病院で一酸化炭素て言われた", "co_poisoning"),
        ("爆竹が手の中で破裂して、指が吹き飛んだ", "amputation"),
        ("旅館の手すりが外れて父が頭を打った。まだ目ぇ覚まさへん", "unconscious"),
    ],
)
def test_new_phrasings_of_serious_events_are_flagged(text: str, rule: str) -> None:
    result = screen(text)
    assert result.tier == "serious", result
    assert rule in {h.rule for h in result.hits if h.tier == "serious"}, result


@pytest.mark.parametrize(
    "text",
    [
        "充電器がすごく熱くなって、火が出そうになった",
        "ストーブの火が袖に燃え移るところでした",
        "一歩間違えば火事でした",
        "もう少しで指を切断するところだった",
    ],
)
def test_near_misses_go_to_review_and_say_why(text: str) -> None:
    result = screen(text)
    assert result.tier == "review" and detect_serious_accident(text) == [], result
    assert any("near miss" in h.why for h in result.hits), result


@pytest.mark.parametrize(
    "text",
    [
        "このエアコン、火災の原因になりますか？",
        "電気毛布を使うと火事になるって本当ですか",
        "いつか火事になりそうで心配です",
        "幸い火は出ず、焦げ臭いだけでした",
        "火事にならなくてよかった",
        "一酸化炭素中毒を防ぐ警報器のダイレクトメールが毎週届いて迷惑です",
        "返金の手続きがとても骨が折れる作業です",
        "担当の方に骨を折っていただき、ありがとうございました",
        "株で大やけどしました",
        "このお店はネットで炎上しているそうですが大丈夫ですか",
        "骨折した時のための保険に入りたい",
        "骨折治療用のサポーターを返品したい",
        "うちの猫が電気カーペットで低温やけどして、動物病院で手術しました",
        "ヒーター倒れたけど、床がちょっと変色しただけ。火は出てへんで",
        "テレビで見たんやけど、ボタン電池のみこんで子どもが亡くなったって。うちの子も小さいから心配",
        "交差点で車同士ぶつかって父が肋骨おれた。相手の保険会社が連絡くれない",
        "登山中に崖から落ちて足の骨を折りました。山岳保険のことを聞きたい",
        "家の階段で踏み外して骨にヒビ。誰のせいでもないんですけど、保険のことで",
        "娘がテニスの試合中に靭帯切って手術、ツアーのキャンセル料が高い",
        "心臓の手術で父が入院中なので、新聞の契約を止めたい",
        "道路の段差でつまずいて手首を骨折、2か月ギプスです。市に言えばいいですか",
        "消防署の者と名乗る人が「一酸化炭素中毒が多いので点検しろ」と来た",
        "公園のフェンスで息子が手を切って、2針縫合しました。もう抜糸しました",
        "モバイルバッテリーがぱんぱんに膨れとったけど、燃えてはなか",
        "ペットホテルでうちの猫が脱走して骨折😿 治療に3か月かかるって",
        "散歩中に段差で転んで足首を折り、全治2か月。それでジムを休会したいです",
        "歩いてたらバイクにぶつけられて骨折、リハビリ半年です。示談の進め方を知りたい",
        "グリルの中だけで燃えて、扉を閉めたら消えました",
        "歩道で段差につまずいて膝を骨折し、入院しています。",
    ],
)
def test_questions_idioms_and_prevention_are_not_serious(text: str) -> None:
    assert detect_serious_accident(text) == [], screen(text)


@pytest.mark.parametrize(
    "text",
    [
        "20年前にストーブで火事になった。今さらだけど、誰にも報告していない",
        "5年前の骨折の件で、改めて報告したいです。踏み台が壊れました",
        "店員に勧められて買った踏み台が壊れて、父が骨折しました",
        "テレビで紹介されていた加湿器を買ったら、発火しました",
        "近所で買ったストーブから火が出た",
    ],
)
def test_blockers_do_not_cancel_a_real_unreported_event(text: str) -> None:
    assert screen(text).tier == "serious", screen(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("娘が骨折で入院中なので、塾の休会手続きを代わりにしたい", "reason_for_contract"),
        ("母が手術を受けるので、定期便を一時停止したい", "reason_for_contract"),
        ("交通事故で骨折した父の保険会社とのやりとりについて", "traffic_accident"),
        ("近所で火事があって怖いので、ストーブの安全な使い方を教えて", "others_accident"),
        ("夫が亡くなって一人暮らしなので、訪問販売が怖い", "no cause"),
        ("「窒息のおそれ」と表示のあるおもちゃです", "おそれ"),
    ],
)
def test_weak_contexts_demote_to_review_naming_the_blocker(text: str, why: str) -> None:
    result = screen(text)
    assert result.tier == "review" and detect_serious_accident(text) == [], result
    assert any(why in h.why for h in result.hits), result
    assert any("要確認" in r for r in result.reasons("review")), result.reasons("review")


def test_time_ago_is_not_a_treatment_period_and_kana_periods_count() -> None:
    from knowledge.accident import treatment_days

    assert treatment_days("3年前にこたつでやけどして入院したことがある") is None
    assert treatment_days("治るまでひと月以上かかる") == 30
    assert treatment_days("完治まで半年と言われた") == 182
    assert treatment_days("数か月の通院が必要") == 60


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["blockers"][0].update(effect="ignore"), r"blockers\.0\.effect"),
        (lambda d: d["blockers"][0].update(unless="(買"), r"blockers\.0\.unless: .*invalid regex"),
        (lambda d: d["near_miss"].append("そう("), r"near_miss: .*invalid regex"),
    ],
)
def test_new_rule_fields_are_validated(mutate: Callable[[dict], object], message: str) -> None:
    data = _rules_json()
    mutate(data)
    with pytest.raises(AccidentRulesError, match=message):
        parse_rules(json.dumps(data))


def test_possible_accidents_give_review_reasons_and_serious_ones_do_not() -> None:
    from knowledge.accident import detect_possible_accident

    reasons = detect_possible_accident("充電器から煙が出て、火が出そうになった")
    assert any("[rule smoke_scorch]" in r for r in reasons), reasons
    assert any("[rule fire]" in r and "near miss" in r for r in reasons), reasons
    assert detect_possible_accident("ストーブから火が出て母がやけどで入院しました") == []
    assert detect_possible_accident("定期購入を解約したい") == []


# ---- v6: severity from prognoses and short courses, contamination, who/what caused it, background ----


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # a prognosis in a treatment context is a treatment period, whatever the wording
        ("親知らずを抜いたあと唇のしびれが、三か月たっても治りません", "duration_30"),
        ("転んで前歯が折れ、歯医者で治療中です。インプラントで半年かかるそうです", "duration_30"),
        ("ネイルサロンで爪がはがれて、生えるまで4ヶ月と言われた", "duration_30"),
        ("皮膚科に通って五週間、まだ治っていません。化粧品のせいです", "duration_30"),
        ("洗剤で手荒れがひどくなり入院しました。もう六週間になります", "duration_30"),
        ("歯科の麻酔で神経を損傷したと言われました", "severe_injury"),
        ("ヘアカラーでやけど(Ⅱ度)になった", "severe_injury"),
        # food or drink contaminated with a toxic substance: an event that could cause serious harm
        ("買ったジュースから農薬の成分が検出されたと連絡がありました", "toxic_contamination"),
        ("弁当に漂白剤が混入していて、一口食べてしまった", "toxic_contamination"),
        # news about an accident in which the consumer's own family was hurt
        ("ニュースで見たホテルのガス漏れ事故、うちの母もその一人で一酸化炭素中毒でした", "co_poisoning"),
        # a fall caused by a product or a facility, in a message about money, is still an accident
        ("ジムで転倒して手首を骨折したので、会費を返金してほしい", "fracture"),
        ("買った脚立が壊れて転んで骨折、代金を返してほしい", "fracture"),
    ],
)
def test_v6_serious_phrasings_are_flagged(text: str, rule: str) -> None:
    result = screen(text)
    assert result.tier == "serious", result
    assert rule in {h.rule for h in result.hits if h.tier == "serious"}, result


@pytest.mark.parametrize(
    "text",
    [
        # the prognosis is of a repair or a refund, not a treatment
        "ドライヤーで少しやけどしました。修理に2か月かかると言われて困っています",
        # colloquial negations
        "ﾓﾊﾞｲﾙﾊﾞｯﾃﾘｰ ふくらんだ。火 は でてない",
        "充電したら膨らんできた。まだ燃えたりはしてないです",
        "農薬は検出されませんでした",
        # a device that 'died', a fire used as a hypothetical or a sales claim
        "パソコンが完全に死んだ。修理代が高い",
        "火事の時に使える避難用のはしごを買いたい",
        "訪問者に「給湯器から一酸化炭素が出ている」と言われ、点検料を払いました",
        "水道水に有害物質が含まれていると言われて、浄水器を買わされた",
        # an accident already reported
        "去年こちらに相談して報告してもらったストーブの火事の件、その後どうなりましたか",
        "一昨年のガス漏れで中毒になった件は消費者庁にも通知されたと聞いています。今日は賠償の相談です",
    ],
)
def test_v6_non_events_and_reported_events_are_not_flagged(text: str) -> None:
    assert detect_serious_accident(text) == [], screen(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # a short stated course: under 30 days, with a week of margin for an estimate
        ("マッサージ器で肋骨にひびが入り、全治2週間と言われた", "short treatment"),
        ("サプリを飲んで入院しましたが、5日で退院して今は元気です", "short treatment"),
        ("ソファベッドの金具で額を切って手術、治療は1回で終わりました", "short treatment"),
        # no product or service: a fall on the street, a question about a contract
        ("父が歩道でつまずいて骨折しました。共済の請求方法を知りたい", "no_product"),
        ("祖母が転んで骨折して入院中です。携帯の解約を代わりにできますか", "no_product"),
        # at work, an illness, flames put out without the fire brigade, a past accident as background
        ("工場で作業中にプレス機で指を切断しました", "workplace"),
        (
            "祖父が浴室で亡くなりました。ヒートショックと言われました。葬儀の契約の相談です",
            "illness_in_message",
        ),
        ("トースターから火が出たけど、すぐ消えました。消防は呼んでいません", "small_fire"),
        (
            "5年前にストーブで火事になったことがあります。今回は別件で、新聞の勧誘の相談です",
            "past_background",
        ),
        ("美容外科で手術しましたが仕上がりに不満です。痛みや傷はありません", "no_injury_stated"),
    ],
)
def test_v6_uncertain_cases_go_to_review_naming_why(text: str, why: str) -> None:
    result = screen(text)
    assert result.tier == "review" and detect_serious_accident(text) == [], result
    assert any(why in h.why for h in result.hits), result


@pytest.mark.parametrize(
    "text",
    [
        # an admission period is not a whole course: treatment goes on after discharge
        "カセットコンロが破裂して顔をやけど、入院3週間",
        # 全治1か月 is the law's 30 days
        "キックボードで転倒して手首を骨折、全治1か月",
        # a short stay, but the treatment still goes on
        "湯たんぽでやけどして1週間入院、今も通院中です",
        # flames put out at home, but the room burned
        "コンセントから火が出てカーテンが燃えました。消防は呼んでいません",
    ],
)
def test_v6_demotions_do_not_apply_to_real_serious_cases(text: str) -> None:
    assert screen(text).tier == "serious", screen(text)


def test_prognosis_counts_only_in_a_treatment_context() -> None:
    from knowledge.accident import treatment_days

    assert treatment_days("歯医者で治療中、インプラントまで半年かかる") == 182
    assert treatment_days("荷物が届くまで半年かかる") is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["short_treatment_rules"].append("no_such_rule"),
            r"short_treatment_rules .*no_such_rule",
        ),
        (lambda d: d["blockers"][0].update(unless_in_message="(x"), r"unless_in_message: .*invalid regex"),
        (lambda d: d.update(treatment_context="治療("), r"treatment_context: .*invalid regex"),
        (lambda d: d["rules"][0].update(kind="poison"), r"rules\.0\.kind"),
    ],
)
def test_v6_rule_fields_are_validated(mutate: Callable[[dict], object], message: str) -> None:
    data = _rules_json()
    mutate(data)
    with pytest.raises(AccidentRulesError, match=message):
        parse_rules(json.dumps(data))


def test_hearsay_with_the_own_family_harmed_is_still_serious() -> None:
    text = "ニュースでやってたこんにゃくゼリー、うちの孫も食べて救急車で運ばれて入院したんです"
    assert screen(text).tier == "serious", screen(text)


# v16/v17 round: wordings written for these tests (not copied from the sets); each fails on the rules
# before the round
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("草刈り機の刃で父の薬指の先っぽがとれてしまいました", "amputation"),
        ("ベビーベッドの柵のすき間に首が挟まって、気づいたら息してなくて救急車を呼びました", "unconscious"),
        ("電動自転車のバッテリーが破裂して、息子が救急車で運ばれました。まだ目を覚ましません", "unconscious"),
        ("祖母が介護ベッドの柵に首を挟まれて、先週お葬式を出しました", "death"),
        ("ヨガ教室でインストラクターに無理に押されて腰を痛め、仕事を休んで3か月になります", "long_course"),
        # the time elapsed, said after a comma (しびれてて、もう4か月になります)
        ("糸リフトの施術のあと、ほおがずっとしびれてて、もう4か月になります", "duration_30"),
        (
            "整体で首をひねられてから足に力が入らず、いまも整形外科に通ってるけど杖なしでは歩けない",
            "disability",
        ),
        ("生焼けの鶏肉を食べたあとにギラン・バレー症候群と診断されました", "severe_injury"),
        ("こたつで寝ていた祖父が低温やけどで、皮膚の移植が必要と言われました", "surgery"),
    ],
)
def test_v16_serious_phrasings_are_flagged_by_the_rules(text: str, rule: str) -> None:
    result = screen(text, second_opinion=False)
    assert result.tier == "serious" and rule in {h.rule for h in result.hits if h.tier == "serious"}, result


@pytest.mark.parametrize(
    "text",
    [
        "一酸化炭素中毒に注意って回覧板が回ってきたけど、うちの給湯器は大丈夫?",
        # an impostor's threat in a sales pitch (調査だって来た…契約させられました)
        "水道局の調査だって来た人に「このままだと死亡事故になる」と言われて、浄水器を契約させられました",
    ],
)
def test_v16_warnings_and_pitches_are_not_flagged(text: str) -> None:
    assert screen(text).tier == "none", screen(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # a product the message denies does not count as named: the no-product blocker still applies
        (
            "父が自宅の廊下で転んで骨折し入院しました。段差や手すりの不具合の話はありません。入院中の新聞を解約したい",
            "no_product",
        ),
        # the length of an admission for an illness is no accident's treatment period
        (
            "母が肺炎で入院して2か月になります。入院中に届いた健康食品の定期購入を止めたい",
            "unrelated_illness",
        ),
    ],
)
def test_v16_uncertain_cases_go_to_review_naming_why(text: str, why: str) -> None:
    result = screen(text)
    assert result.tier == "review", result
    assert any(why in h.why for h in result.hits), result


def test_denied_mentions_are_validated() -> None:
    data = _rules_json()
    data["denied_mentions"] = "(はなし"
    with pytest.raises(AccidentRulesError, match=r"denied_mentions: .*invalid regex"):
        parse_rules(json.dumps(data))


# v18–v21 rounds: wordings written for these tests (not copied from the sets); each got another tier from
# the rules before its round. "not serious": 要確認 from the classifier's second opinion is fine.
ROUND_CASES = [
    # v18/v19: a third party's report of a product-caused accident is still one the center must notify
    (
        "隣の家でこたつが原因とみられる火事があって、おじいさんが亡くなりました。うちにも同じこたつがあります",
        "serious",
    ),
    ("病院に入院してたの知ってる業者から健康食品の電話が来るんです。個人情報どうなってるの", "none"),
    ("スマホを充電したまま寝たら火事になったりするの?", "none"),
    ("ケガした時の入院費が出る共済に入ろうか迷ってます", "none"),
    ("警報器をつけないと火事の時大変ですよって業者に言われた", "none"),
    # a scar is not a 府令第5条 disability: with a short treatment it is 要確認
    (
        "ガラスのコップが割れて手のひらを5針縫いました。抜糸は1週間後、傷あとが残るかもと言われています",
        "review",
    ),
    # a fall in a field: no product; the 健康器具 is what a seller pitched, not what hurt her
    ("畑で転んで手首を骨折しました。そのあと訪問販売で健康器具を買わされそうになりました", "review"),
    ("鍋の焦げで台所に煙が出たけど火は出ねがった", "review"),
    ("タコ足配線でコンセントから火花が出ました。火事にはならず、けがもありません", "review"),
    # a question quoted as a thought (火事?って思った) is no fire
    (
        "ケーキの火のついたろうそくが倒れて、え、火事?って思ったけどすぐ消えて、テーブルクロスが少し焦げただけ",
        "review",
    ),
    ("夫が使ったサプリで肝臓の数値が悪くなり、2日だけ入院しました。今は数値も戻っています", "review"),
    # v20 (counselor notes)
    ("充電中のスマホが熱くなって焦げたにおいがしましたが、火は出てません", "review"),
    # put out by the consumer, no fire brigade: the classifier does not flag over it either
    ("カセットコンロのボンベから炎が上がったので消火器で消しました。消防への通報なし、けが人なし", "review"),
    ("ドライヤーの熱風で子どもの腕にⅡ度のやけど。通院2回で治る見込みと言われました", "review"),
    ("地域の防災講座で、火災や一酸化炭素中毒の怖さについて話してほしいと頼まれました", "not serious"),
    ("ガス漏れで一酸化炭素中毒になりますよと業者に言われて、警報器を契約しました", "not serious"),
    ("借りた部屋が事故物件で、前の住人が室内で亡くなっていたと後から知りました。解約したい", "none"),
    # v21 (LINE threads): a guess (骨折してるかも) stays 要確認 even in a sentence that names the hospital
    (
        "ベビーゲートが外れて子どもが階段から落ちた\n足が腫れてて骨折してるかも、今病院に向かってます",
        "review",
    ),
    # 病院で亡くなって gives no cause: with a billing complaint, 要確認
    ("母の葬儀を頼んだら、見積もりの3倍の請求が来ました。病院で亡くなってすぐで慌てていたので", "review"),
    ("持病の心臓病で3か月入院していた間も、スマホの料金が満額引き落とされていた。使ってないのに", "review"),
    # the collision is told in another sentence than the treatment
    (
        "信号待ちで後ろから追突された。むち打ちで2か月整形外科に通っている。保険会社が治療費を打ち切ると言う",
        "review",
    ),
    (
        "外壁の業者が来て、このままだとひびから水が入って家が崩れて死亡事故になりますよって。今日契約すれば割引って",
        "none",
    ),
    ("医療保険入ってないと入院のとき全部自己負担ですよって電話で言われました", "none"),
    # v22 (hard negatives) and v23 (learners of Japanese, dialects)
    ("亡くなった夫の動画配信サービスが毎月引き落とされています。止め方を教えてください", "not serious"),
    ("海外でこの掃除機が発火して子どもが亡くなったって動画が回ってきたんですけど、うちのは大丈夫?", "none"),
    (
        "水道局を名乗る人から、お宅の水道管から有毒ガスが出て一酸化炭素中毒になるから点検が必要と電話があった",
        "not serious",
    ),
    ("「この加湿器で火事になった」というネットの書き込みを見て不安です", "none"),
    ("火災共済の掛金の引き落としを止めたい", "none"),
    # one night's observation is a short course
    ("赤ちゃんがボタン電池をなめてしまい、念のため一晩だけ入院して様子を見ました", "review"),
    # a flame alone is a sign, not a 火災: 炎が上がって with a singed fringe, 火が出た with nothing burnt
    ("焼肉のときにコンロの炎が大きく上がって、前髪が少し焦げました", "not serious"),
    ("コンセントから火が出たので慌てて抜きました。何も燃えていません", "review"),
    # v24 (severity told indirectly) and v25 (long mixed messages)
    ("温泉の脱衣所で滑って膝のお皿を割りました。杖がないと階段は無理です", "serious"),
    # a cooking setting (七輪の焼肉店) does not keep the classifier from flagging CO poisoning
    ("七輪の焼肉店で家族が頭痛と吐き気、病院で高圧酸素の治療を受けました", "serious"),
    ("叔母が老人ホームで亡くなりましたが、入居金の返ってくる額が少なすぎます", "not serious"),
    ("介護施設の契約書に「施設内の転倒・骨折は一切責任を負わない」とあるのは有効ですか", "none"),
    # the month is the repair investigation's, not a treatment
    (
        "買ったトースターから火花が出て焦げました。けがはないです。店に送って調査するので1か月はかかると言われました",
        "review",
    ),
    # v26 (188 call transcripts) and v27 (food, health foods, beauty)
    ("相談員：何か火が出たとか、そういうことは\n相談者：いいえ、ないです。契約の金額が高くて", "not serious"),
    # まだ治っていません negates the healing, not the six weeks of visits
    ("ヘアカラーで頭皮がかぶれて、皮膚科に6週間通ってまだ治っていません", "serious"),
    ("スライサーで親指の先がちょっと…なくなってしまいました", "serious"),
    (
        "前に腰痛で入院したことがあって整骨院の回数券を買ったけど、店が閉店するので返金してほしい",
        "not serious",
    ),
    (
        "SNSでこの加湿器から火が出たという話をいくつも見て不安です。うちのは今のところ何もありません",
        "not serious",
    ),
    # an admission of a few days that ended: 要確認 (a fracture or a burn with it stays flagged)
    ("牡蠣にあたって2日入院しましたが、2日で退院できました", "review"),
    ("キックボードで転んで手首を骨折し、2日で退院しました", "serious"),
    # v28 (products at home and outdoors) and v29 (third-party reporters)
    ("母が心筋梗塞で倒れて入院しました。退院後に使う車いすのレンタル料金が高すぎる気がします", "not serious"),
    ("「地震にも火事にも強い家になる」と言われて、外壁工事のローンを組んでしまいました", "none"),
    ("カセットコンロのボンベが膨らんだので、すぐに火を消しました。けがはありません", "not serious"),
    ("ストーブの近くに置いたスプレー缶が熱くなりましたが、火は出ておらず、けがもありません", "not serious"),
    ("空き巣に入られて火事で家が焼けたっていう人が、義援金を集めに来ました", "not serious"),
    # v31 (services and leisure): an illness that struck on a trip, an illness death behind a bill, arson
    ("出張先のホテルで父が脳梗塞を起こし救急搬送、そのまま入院しました。宿泊費の返金について", "not serious"),
    ("祖父が肺炎により亡くなりました。葬儀社の請求が見積もりより高いです", "not serious"),
    ("近所の空き家に放火されて、うちのカーポートも燃えてしまいました", "not serious"),
    (
        "兄が体験ダイビングのツアーで海に潜ったきり上がってこなくて、引き上げられたときにはもう…。"
        "葬儀は済ませましたが、業者の説明に納得できません",
        "serious",
    ),
    # v30 (older consumers, dialects): 火事さなる is a worry; 不具合なし and 延焼なし deny; an air conditioner left off
    ("古い電気毛布だども、火事さなりそうで怖くて使えね", "not serious"),
    ("散歩中に道で自分で転んで足首を骨折、全治2か月。靴の不具合なし。保険の手続きを聞きたい", "not serious"),
    ("父が熱中症で入院。クーラーは電気代がかかるからって使ってなかったらしい", "not serious"),
    ("天ぷら鍋から炎が上がったけど、ふたをして消した。延焼なし、手に軽い赤み", "not serious"),
    # v33 (online shopping, imported goods): a recall's warning and a warning label are no events
    (
        "この充電器は過熱して火災につながるおそれがあると、回収の案内が届きました。うちのは何ともありません",
        "not serious",
    ),
    ("換気しないで使うと一酸化炭素中毒で事故になりますよと説明書きにあったので心配です", "not serious"),
    # v35 (home fixtures, tradespeople): a fear (火事が怖い) and a scare pitch (不安を煽って) are no events
    ("灯油ストーブは火事や一酸化炭素が怖いから、うちはずっとエアコン派です", "not serious"),
    (
        "太陽光パネルの営業が「停電のときに困りますよ」と不安を煽ってきて、一酸化炭素中毒の話までされた",
        "not serious",
    ),
    # v32 (tone that misleads): a death of old age behind a bill, an accident heard of, a pet's harm
    ("祖母が老衰により施設で亡くなりました。退去の際の原状回復費用が高すぎます", "not serious"),
    ("ベビーベッドで窒息事故があったと聞いたので、買うのをやめようか迷ってます", "not serious"),
    (
        "通販のおやつを食べたうちの猫(3歳)が吐いて動物病院に入院、1か月点滴に通いました。人への被害はありません",
        "not serious",
    ),
    # v34 (infants and small children): arson told in another sentence, children colliding, a seller's
    # visit after a discharge, a febrile seizure
    ("放火の疑いがあると消防から聞きました。物置の中の灯油缶が燃えて、外壁も焦げています", "not serious"),
    (
        "小学校の体育で友だちと頭をぶつけて、息子の鼻の骨が折れました。学校の保険について聞きたいです",
        "not serious",
    ),
    (
        "父が脳梗塞で入院した後、リフォーム業者が来て手すりと段差解消の工事を勧めてきて、80万円の契約をしてしまいました",
        "not serious",
    ),
    (
        "孫が熱性けいれんで救急車で運ばれて、3日入院しました。薬や食べ物のせいではないそうです。救急車の費用は?",
        "not serious",
    ),
    # v36 (the law's exact line): flames that stayed inside the product, a fall on ice, a fight, an old ボヤ behind
    # a bill, a collision with the bicycle intact
    (
        "モバイルバッテリーから火が出たけど、バッテリーの中だけですぐ消えた。指を少しやけどしただけ",
        "not serious",
    ),
    ("延長コードから出火、プラグ部分のみ焼損で、床や壁への燃え移りなし。けがもなし", "not serious"),
    ("居酒屋で知らない客とケンカになって殴られ、あごの骨折で全治2か月。店に責任はありますか", "not serious"),
    (
        "母が自宅の古い廊下で足がもつれて転び、大腿骨を骨折して手術しました。入院中の差額ベッド代が高いです",
        "not serious",
    ),
    ("退去のとき、昔のボヤの跡の補修費として15万円を請求されました。ボヤは8年前のことです", "not serious"),
    (
        "息子が自転車で友だちとぶつかって、相手の子が腕を骨折、全治1か月。自転車はどこも壊れていません",
        "not serious",
    ),
    # v37 (a day at a center): 書いてあったらしい is no hearsay; a pitch's 火事の元
    (
        "取説には「子どもの手の届かない所に置く」と書いてあったらしいけど、息子が洗剤を飲んでしまって入院3日です",
        "review",
    ),
    ("「タコ足配線は火事の元ですよ」と言って、点検の人が高い分電盤を勧めてきた", "not serious"),
    # v38 (injuries on the law's line): 全治4週間 is under 30 days (要確認, no flag); slight numbness after a short
    # course; a brief faint sent home the same day; a pitch in 『』; a seizure, a marathon, horseplay, inattention
    ("スキー場で転んで手首を骨折しました。全治4週間と言われています", "review"),
    (
        "整骨院の電気治療のあと腰にしびれが出ました。通院は10日で終わって、今はわずかにしびれが残る程度です",
        "review",
    ),
    ("岩盤浴で気を失って救急車で運ばれたけど、その日のうちに帰宅できました", "review"),
    (
        "リフォーム屋さんが『このままだと床が抜けて大けがしますよ』って言ってきて、すぐ工事しろって",
        "not serious",
    ),
    (
        "消火器の訪問販売で『火事で亡くなる人の多くは消火器がなかった』と言われ、3本契約しました",
        "not serious",
    ),
    ("父が自宅で持病の発作により亡くなりました。葬儀の費用について相談です", "not serious"),
    ("フルマラソンに出て、自分のペース配分のミスで肉離れ。全治6週間", "not serious"),
    ("友達とふざけあってて押されて転んで、腕を骨折。全治2か月", "not serious"),
    ("夫がバイクでよそ見して転んで、鎖骨を折って全治2か月。バイクは何ともないです", "not serious"),
    # v39 (who and what caused it): weather with a product unused or unfitted, a procedure not yet had, a drama
    ("熱中症で救急搬送され1週間入院。エアコンは故障なく未使用でした", "not serious"),
    ("地震で本棚が倒れて祖母が腕を骨折。転倒防止器具はつけていませんでした", "not serious"),
    ("脱毛サロンの施術のローンを組んだけど、施術はまだ受けてないので解約したい", "not serious"),
    ("映画で見たような「充電器からの火事」が怖くて、寝る前は全部抜いています", "not serious"),
    # v40 (CO and fire by their traces): news before 買ったばかり is still hearsay; a toy's part that tore off; lightning
    ("テレビで石油ストーブの火事で亡くなった人がいたって見て、うちも買ったばかりで不安です", "not serious"),
    ("歯固めの一部がちぎれて口に入り、口の中が少し切れたけど数日で治りました", "not serious"),
    ("ぬいぐるみの耳の部分がちぎれて、中の綿が出てきました。子どもは無事です", "not serious"),
    ("去年、落雷で物置が燃えて、保険の査定額に納得がいきません", "not serious"),
    # v41 (messy text): romaji hypotheticals, threats quoted in a pitch, a death at home behind a bill
    (
        "公園を散歩中に自らつまずいて転び、手首を骨折して入院中。退院後の車いすレンタルの契約について",
        "not serious",
    ),
    ("moshi kotatsu kara kaji ni nattara dou sureba ii?", "not serious"),
    ("脱毛サロンで『今やらないとシミが一生残る』って脅されて、契約しそうになった", "not serious"),
    ("祖母が家で亡くなったあと、遺品整理の業者に高額な請求をされました", "not serious"),
    # v43 (teenagers and young adults): hyperbole, TV features, a fall with 製品の関与なし
    ("部活きつすぎて骨折れるくらい疲れたｗ", "not serious"),
    ("このゲーム神すぎて死んだ、会場も燃えてた🔥", "not serious"),
    ("TVの特集でヒーターの火災を見て、うちのが心配になりました", "not serious"),
    ("河川敷をランニング中に転んで手首を骨折、全治2か月。製品の関与なし。保険の相談です", "not serious"),
    # v42 (severity told by what came after): a Kansai worry, a wheelchair used before, a death behind a 違約金
    ("電気毛布つけたまま寝ても火事にならんか心配なんです", "not serious"),
    ("母はもともと車いす生活ですが、レンタルの車いすが合わないので契約を解除したい", "not serious"),
    ("夫が亡くなって一人暮らしなので、ウォーターサーバーをやめたいのに違約金を言われた", "not serious"),
    # v44 (PIO-NET memos) and v45 (mixed messages): a pushy seller after a fall, a school report, 使用料, a pitch's
    # 火事になっても, Kyushu 出とらん
    ("おじいちゃんが畑で転んで足を骨折。そのあと健康器具の訪問販売がしつこくて困ってます", "not serious"),
    ("大学のレポートで調べています。やけどで全治30日以上かかった場合も重大事故になりますか", "not serious"),
    ("母の死亡後、母名義の墓地の使用料を返してほしい", "not serious"),
    ("リフォーム中に家が火事になっても保証しますと言われて契約しました。解約したい", "not serious"),
    ("充電器のとこがバチってなって焦げとったけど、火は出とらんよ", "not serious"),
]


@pytest.mark.parametrize(
    "text",
    [
        # v36: a fire that spread beyond the product is a 火災 even when it went out at once
        "ストーブから火が出て、ソファとそばの床がちょっと焼けた。火はすぐ消えたから消防は呼んでない",
        # v37: lifelong dialysis is a lasting disability; そのまま… after an ambulance is a death
        "父が通販の漢方を2年飲んでいて、肝臓の数値が悪くなり、腎臓ももうだめで人工透析が始まりました",
        "娘が、こんにゃくゼリーを喉に詰まらせて、救急車で運ばれてそのまま…",
        # v39: 通うてる (Kansai) counts the weeks of visits; a finger left bent is a lasting disability
        "エステの薬剤で首がただれて、もう6週間通うてるけど、まだ赤いんよ",
        "遊具に指をはさんで骨が欠けて、結局指が曲がったまま治らなかった",
        # v41: a voice-input homophone (無くなりました for 亡くなりました)
        "父がレンタルの介護ベッドの柵に首を挟まれて無くなりました",
        # a body part that tore off is still an amputation
        "シュレッダーに指を巻き込まれて指先がちぎれました",
        # v43: a product that failed on a level crossing is no mere traffic accident; treatment still going on
        # is no background to a refund question
        "電動車いすが踏切で急に止まってしまい、電車と接触して父が亡くなりました",
        "去年エステの脱毛でやけどして、半年たった今も皮膚科に通っています。今回は返金の相談です",
        # v42: a trainer's instruction is a cause, even when the message is about 休業補償
        "パーソナルで重すぎるデッドリフトやらされて腰椎圧迫骨折。休業補償って請求できますか",
        # v45: fingertips lost, told between commas
        "裁断機に孫が手を入れて、指二本、先のほう、なくなりました",
    ],
)
def test_the_rules_alone_flag_wordings_of_the_v36_to_v45_rounds(text: str) -> None:
    assert screen(text, second_opinion=False).tier == "serious"


def test_a_pneumonia_a_product_caused_is_no_unrelated_illness() -> None:
    # 肺炎を起こし is an illness blocker's wording, but a detergent pod that got into the airway caused it
    text = "2歳の息子が洗濯用のジェルボールを噛み破って、液が気管に入って肺炎を起こし、4週間入院しました"
    assert screen(text, second_opinion=False).tier == "serious"


@pytest.mark.parametrize(("text", "tier"), ROUND_CASES)
def test_blind_round_wordings_get_the_expected_tier(text: str, tier: str) -> None:
    result = screen(text)
    if tier == "not serious":
        assert result.tier != "serious" and detect_serious_accident(text) == [], result
    else:
        assert result.tier == tier, result
        assert bool(detect_serious_accident(text)) == (tier == "serious"), result
