"""Build the accident-screening set v2: bench/data/accident_v2_dev.jsonl and accident_v2_test.jsonl.

Rows: ``{"text", "label", "reason", "style", "group"}``; label is ``serious`` (消費者安全法 重大事故等:
death, injury/illness needing 30+ days of treatment — 入院, 手術, 骨折, 切断, 意識不明 are taken as such —,
後遺症, 一酸化炭素中毒, fire), ``minor`` (a 消費者事故等 or a possible one, not 重大: short treatment, smoke or
scorching without flames) or ``none`` (no accident to a person: sales pitches, news and hearsay, old accidents
already reported, pets only, property-only damage without fire, cooking smoke, unrelated 入院, contracts).
Styles: ``plain`` (consumer message), ``line`` (short, colloquial, emoji, misspelt), ``memo`` (counselor's
phone notes). Each template is one ``group``; its slot fills stay together.

Split: groups are shuffled with seed 20261201 and cut ~60/40 into dev/test, so test phrasings are not seen
in dev. The test split is FROZEN: if accident_v2_test.jsonl exists the script refuses to write a different
one (``--check`` only verifies). Never tune the screener on test. Run:
    .venv/bin/python bench/data/build_accident_v2.py [--check]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20261201
HEAT = ["電気ストーブ", "石油ストーブ", "セラミックヒーター", "モバイルバッテリー", "スマホの充電器", "電気毛布",
        "ドライヤー", "延長コード", "電気あんか", "ノートパソコン", "電動自転車のバッテリー", "こたつ", "加湿器",
        "電子レンジ", "ヘアアイロン", "ハンディファン"]
WHO = ["母", "父", "子ども", "息子", "娘", "祖母", "祖父", "夫", "妻", "孫", "私"]
THING = ["折りたたみ椅子", "踏み台", "脚立", "ベビーカー", "自転車", "キックボード", "ベッドの柵", "電動シャッター",
         "ブラインドのひも", "ルームランナー", "電動ベッド", "マッサージチェア"]
FOOD = ["通販の健康食品", "こんにゃくゼリー", "サプリメント", "宅配の弁当", "お取り寄せの牡蠣", "冷凍ギョーザ"]

# (label, style, reason, template). Slots: {h} heater/appliance, {w} person, {t} thing, {f} food.
T: list[tuple[str, str, str, str]] = [
    # ---- serious: fire ----
    ("serious", "plain", "fire from a product, child burned and admitted", "{h}から火が出て{w}がやけどをして入院した"),
    ("serious", "plain", "fire from a product, spread to curtain", "{h}から急に火が出て、カーテンに燃え移りました。"),
    ("serious", "plain", "product ignited, room burned", "寝ている間に{h}が発火して、部屋の床と壁が燃えてしまいました。"),
    ("serious", "plain", "house fire caused by product", "{h}が原因で火事になり、消防車が来ました。家族は無事です。"),
    ("serious", "plain", "fire, firefighters; no injury but fire is 重大", "{h}が燃えて119番しました。けが人はいませんが部屋が焼けました。"),
    ("serious", "plain", "product burst into flames while charging", "充電中の{h}が突然炎を上げて燃えました。"),
    ("serious", "line", "fire, line style", "{h}から火でた😱 床こげた"),
    ("serious", "line", "fire, line style, misspelt", "やばい{h}がはっかした！！カーペットもえた🔥"),
    ("serious", "line", "fire and burn, line", "{h}燃えて{w}がやけどして救急車よんだ😭"),
    ("serious", "memo", "memo: ignition, burn, admitted", "相談者の{w}、{h}発火で火傷、入院中"),
    ("serious", "memo", "memo: fire, partial burn of house", "{h}より出火、居室半焼。相談者けがなし。"),
    ("serious", "memo", "memo: fire spread", "相談者宅で{h}から火、ふすまに延焼。消防出動。"),
    ("serious", "plain", "polite form, mother burned and hospitalized", "ストーブから火が出て{w}がやけどで入院しました"),
    ("serious", "plain", "fire confirmed by fire dept", "{h}の火災について、消防から製品が原因と言われました。"),
    # ---- serious: injury severity ----
    ("serious", "plain", "finger severed, surgery", "{t}をたたむときに{w}の指がはさまって切断し、手術しました。"),
    ("serious", "plain", "finger severed (metal folding chair)", "パイプ椅子を折りたたんだら指先がちぎれてしまい、縫合手術を受けました"),
    ("serious", "plain", "fracture", "{t}が壊れて{w}が転倒し、足を骨折しました。"),
    ("serious", "plain", "30+ days (全治2か月)", "{t}から落ちて{w}が全治2か月のけがをしました。"),
    ("serious", "plain", "30+ days (全治6週間)", "{t}の不具合で{w}が転んで全治6週間と診断されました。"),
    ("serious", "plain", "30+ days in kanji (全治一ヶ月)", "{t}で{w}が手首を痛め、全治一ヶ月と言われました。"),
    ("serious", "plain", "30+ days (治療に40日)", "{t}で腰を強打し、治療に40日かかると言われました。"),
    ("serious", "plain", "admitted, duration unknown", "{t}が急に動いて{w}がけがをし、入院しています。"),
    ("serious", "plain", "unconscious", "{t}のひもが首に絡まって{w}が意識不明になりました。"),
    ("serious", "plain", "death", "{t}の事故で{w}が亡くなりました。メーカーに問い合わせたいです。"),
    ("serious", "plain", "death (死亡)", "{h}の近くで{w}が倒れていて、病院で死亡が確認されました。"),
    ("serious", "plain", "lasting disability (後遺症)", "{t}でけがをした{w}に後遺症が残ると言われました。"),
    ("serious", "plain", "lasting disability (障害が残る)", "{t}の事故で{w}の指に障害が残りました。"),
    ("serious", "line", "fracture, line", "{t}こわれて{w}骨おれた💦"),
    ("serious", "line", "admitted, line misspelt", "{t}でけがして{w}にゅういんしてる😢どこに言えばいい？"),
    ("serious", "line", "surgery, line", "{t}に指はさんで手術になった…😭"),
    ("serious", "line", "severed, line", "{t}で指切断😭😭"),
    ("serious", "memo", "memo: fracture, admitted", "相談者の{w}、{t}から転落し大腿骨骨折、入院"),
    ("serious", "memo", "memo: 全治3か月", "{w}、{t}使用中に転倒。全治3か月。"),
    ("serious", "memo", "memo: surgery", "{t}で右手指挟まれ、{w}手術。通院継続中"),
    ("serious", "memo", "memo: death", "{w}が{t}の事故で死亡。遺族より相談。"),
    ("serious", "memo", "memo: unconscious", "{w}、{t}で頭部強打、意識不明、ICU"),
    ("serious", "plain", "burn needing 1 month", "{h}で{w}が低温やけどになり、治るまで1か月以上かかると言われました"),
    ("serious", "plain", "low-temp burn, skin graft surgery", "{h}で低温やけどをして、皮膚移植の手術をすることになりました。"),
    ("serious", "memo", "memo: low-temp burn, 全治5週", "{h}による低温熱傷、{w}、全治5週間の診断"),
    # ---- serious: CO ----
    ("serious", "plain", "CO poisoning", "{w}が石油ファンヒーターを使っていて一酸化炭素中毒になりました。"),
    ("serious", "plain", "CO poisoning, gas heater", "ガス給湯器の排気で家族が一酸化炭素中毒になり、病院に運ばれました"),
    ("serious", "line", "CO poisoning, line (CO中毒)", "キャンプでテントの中でストーブ使ってたら{w}がCO中毒っぽくて救急車😰"),
    ("serious", "memo", "memo: CO", "相談者{w}、練炭こたつ使用でCO中毒、搬送"),
    ("serious", "plain", "CO poisoning, no 'poisoning' written, alarm rang & headache → hospital diag", "ガス給湯器を使ったら頭痛がして、病院で一酸化炭素中毒と診断されました"),
    # ---- serious: food / product illness, admitted ----
    ("serious", "plain", "food poisoning with admission", "{f}を食べた{w}が嘔吐して入院しました。"),
    ("serious", "plain", "choking, unconscious", "{f}を食べた{w}がのどに詰まらせて意識がなくなりました。"),
    ("serious", "memo", "memo: food, admitted", "{f}摂取後、{w}に肝機能障害、入院"),
    ("serious", "line", "food, hospitalized, line", "{f}たべて{w}入院した🥲"),
    # ---- serious: old but newly reported (not yet reported) ----
    ("serious", "plain", "past accident not yet reported anywhere", "去年、{h}から火が出て{w}がやけどしましたが、どこにも相談していませんでした。"),
    # ---- minor ----
    ("minor", "plain", "short treatment (全治1週間)", "{t}で{w}が指を切って、全治1週間と言われました。"),
    ("minor", "plain", "minor burn, clinic once", "{h}で{w}が手に軽いやけどをして、皮膚科に1回行きました。"),
    ("minor", "plain", "bruise, 通院2回", "{t}が倒れて{w}が足を打ち、2回通院しました。"),
    ("minor", "plain", "smoke from product, no flames, no injury", "{h}から煙が出たのですぐにコンセントを抜きました。火は出ていません。"),
    ("minor", "plain", "scorched plug, no fire", "{h}のプラグが焦げて黒くなっていました。"),
    ("minor", "plain", "burning smell and smoke", "{h}から焦げ臭いにおいがして、少し煙が出ました。"),
    ("minor", "line", "minor cut, line", "{t}で指きった🩹ちょっと血でた"),
    ("minor", "line", "smoke, line", "{h}からけむりでた💨こわい"),
    ("minor", "line", "minor burn, line", "{h}でちょっとやけどした🥵"),
    ("minor", "memo", "memo: smoke only", "{h}使用中に発煙。発火なし。けがなし。"),
    ("minor", "memo", "memo: minor injury", "{w}、{t}で擦り傷、全治10日"),
    ("minor", "plain", "rash from cosmetic", "通販で買った化粧品を使ったら{w}の顔がかぶれて皮膚科に通っています"),
    ("minor", "plain", "stomach upset after food, recovered", "{f}を食べたら{w}がおなかを壊して、病院で薬をもらいました。もう治りました。"),
    ("minor", "plain", "injury, treated outpatient, not admitted", "{t}で{w}がけがをしましたが、入院はせず通院で済みました。"),
    ("minor", "plain", "fracture ruled out", "{t}で{w}が転んで手首を痛めました。骨折はしていませんでした。"),
    ("minor", "line", "near-miss: smoke & hot", "{h}めっちゃ熱くなって焦げたにおい😨"),
    ("minor", "memo", "memo: foreign object, mouth cut", "{f}に金属片混入、{w}口内を切る、軽傷"),
    ("minor", "plain", "melted product, no fire", "{h}の本体が溶けて変形していました。火や煙は出ていません"),
    # ---- none: sales ----
    ("none", "plain", "fire insurance sales call", "火災保険の勧誘の電話が何度もかかってきて困っています。"),
    ("none", "plain", "fire insurance solicitation visit", "「火災保険で屋根が無料で直せる」と業者が訪問してきました。"),
    ("none", "plain", "medical insurance sales", "医療保険の勧誘で「入院したら1日1万円」と言われて契約してしまいました。解約したい。"),
    ("none", "plain", "CO alarm sales pitch", "一酸化炭素警報器を買わないと中毒になると言われて、3万円で買わされました。"),
    ("none", "plain", "fire alarm door-to-door sales", "消防署の方から来たと言って住宅用火災警報器を高額で売りつけられました"),
    ("none", "plain", "extinguisher sales", "消火器の点検と言って来た業者に、消火器を2本も買わされた。火事になったら大変だと言われた"),
    ("none", "line", "fire insurance sales, line", "火災保険のかんゆうしつこい😤"),
    ("none", "line", "alarm sales, line", "警報器うりつけられた💸 クーリングオフできる？"),
    ("none", "memo", "memo: fire-insurance repair sales", "火災保険申請代行業者とのトラブル。手数料4割請求。"),
    ("none", "memo", "memo: extinguisher sales", "消火器訪問販売、{w}（80代）契約。解約希望。"),
    ("none", "plain", "insurance claim for a past fire (contract dispute)", "以前の火事の保険金が支払われず、保険会社とトラブルになっています"),
    ("none", "plain", "cancer insurance pitch mentions death", "がん保険の電話で「死亡したら家族が困る」としつこく勧誘されました"),
    ("none", "plain", "water purifier sales using fear", "水道水を飲むと病気になると言われて浄水器を買わされました"),
    # ---- none: news / hearsay / worry ----
    ("none", "plain", "news about a recall, own product fine", "ニュースで{h}の発火事故を見ました。うちのも同じ型ですが大丈夫でしょうか。"),
    ("none", "plain", "hearsay from neighbour", "近所の人が{h}で火事を出したと聞きました。うちのは問題ないか心配です"),
    ("none", "plain", "worry, hypothetical", "{h}が発火しないか心配です。安全な使い方を教えてください。"),
    ("none", "plain", "recall inquiry", "{h}がリコール対象か調べたいです。まだ何も起きていません。"),
    ("none", "line", "news, line", "テレビで{h}燃えるやつやってた😳うちのだいじょうぶ？"),
    ("none", "memo", "memo: recall inquiry only", "{h}リコール情報の問合せ。事故なし。"),
    ("none", "plain", "TV news death", "テレビで{t}の事故で子どもが亡くなったと報道されていました。同じ商品を持っています"),
    # ---- none: old, already reported ----
    ("none", "plain", "3 years ago, already reported", "3年前に{h}から火が出た件はすでにメーカーと消費生活センターに報告済みです。今日は別件で、通販の解約について相談です。"),
    ("none", "plain", "long ago, settled", "10年前に{t}で骨折したことがありますが、もう解決しています。今回は定期購入の相談です"),
    ("none", "memo", "memo: past accident already notified", "前回相談（2023年、{h}発火）は通知済み。本日は返金の進捗確認のみ。"),
    ("none", "line", "old, reported, line", "前にストーブで火事になったのはもう報告したよ！今日は別のことです🙏"),
    # ---- none: pets only ----
    ("none", "plain", "pet burned", "{h}でうちの犬がやけどをしてしまい、動物病院に入院しました。"),
    ("none", "plain", "pet food, cat sick", "通販のキャットフードを食べた猫が吐いて動物病院で手術しました"),
    ("none", "line", "pet, line", "うちのねこ{t}にはさまって骨折😿"),
    ("none", "memo", "memo: pet death", "ペット用ヒーターでハムスター死亡。相談者けがなし。"),
    # ---- none: property only, no fire ----
    ("none", "plain", "appliance broke, no injury", "{h}が壊れて動かなくなりました。交換してほしいです"),
    ("none", "plain", "water leak damage", "給湯器から水漏れして床が水浸しになりました。けが人はいません"),
    ("none", "plain", "delivery damaged", "届いた{t}が壊れていて、壁に傷がつきました"),
    ("none", "line", "broken, line", "{h}こわれた😡返品したい"),
    ("none", "memo", "memo: product defect, no harm", "{t}初期不良。けが等なし。返品希望。"),
    # ---- none: cooking smoke ----
    ("none", "plain", "cooking smoke set off alarm", "魚を焼いていて煙が出て、火災報知器が鳴ってしまいました。火事ではありません"),
    ("none", "plain", "burnt toast", "トーストを焦がしてしまって部屋中煙だらけです笑"),
    ("none", "line", "cooking burnt, line", "カレーこがした🍛💦"),
    ("none", "memo", "memo: alarm false trigger", "調理の煙で警報器が鳴動、火災なし。警報器の誤作動について相談。"),
    # ---- none: unrelated hospitalization / death ----
    ("none", "plain", "relative hospitalized, unrelated", "{w}が入院中なので、代わりに解約の手続きをしたいです。"),
    ("none", "plain", "deceased relative's contract", "亡くなった{w}の携帯電話の解約について教えてください。"),
    ("none", "plain", "hospital bill dispute", "{w}の入院費の請求がおかしい気がします"),
    ("none", "line", "in hospital, can't call", "いま{w}入院しててでんわできない🙏LINEで相談させて"),
    ("none", "memo", "memo: admitted for illness, contract", "{w}、持病で入院中。定期購入の解約代行の相談。"),
    ("none", "plain", "surgery cost contract", "美容クリニックで手術の契約をしたけどまだ受けていません。キャンセルしたい"),
    ("none", "plain", "funeral service contract", "{w}が亡くなって葬儀社と契約したら高額な請求が来ました"),
    # ---- none: contract / money ----
    ("none", "plain", "subscription trap", "初回500円のサプリが定期購入になっていて解約できません"),
    ("none", "line", "online shopping, line", "ネットで買った服とどかない😭"),
    ("none", "memo", "memo: phishing", "宅配業者を装ったSMS、リンク押下、カード情報入力。"),
    ("none", "plain", "figurative 炎上", "ネットで口コミを書いたら炎上してしまい、業者から削除を求められています"),
    ("none", "plain", "figurative 死ぬほど", "勧誘の電話が多すぎて死ぬほどストレスです"),
]

# Hand-written single rows (each its own group), mixed labels and styles.
H: list[tuple[str, str, str, str]] = [
    ("serious", "plain", "fire from heater, child burned, admitted (issue example)", "電気ストーブから火が出て子どもがやけどをして入院した"),
    ("serious", "plain", "finger severed by folding chair, surgery (issue example)", "折りたたみ椅子で息子の指が切断され、手術しました"),
    ("serious", "plain", "demo message", "ストーブから火が出て母がやけどで入院しました"),
    ("serious", "line", "fire, kana only", "すとーぶからひがでた！！"),
    ("serious", "line", "admission, full-width digits and emoji", "ベビーカーたおれて子ども頭うって入院中です😭３日目"),
    ("serious", "memo", "memo: abbreviations", "相談者本人、電動自転車Bt発火→自宅ガレージ焼損"),
    ("serious", "plain", "ambulance + admitted next day", "エアコン掃除スプレーを使ったら夫が息苦しくなり、救急搬送されてそのまま入院になりました"),
    ("serious", "plain", "treatment 3 months", "美容施術でやけどを負い、治療に3か月かかっています"),
    ("serious", "plain", "hair dye, lasting", "ヘアカラーでアレルギーが出て、皮膚に跡が残ってしまい後遺症と言われました"),
    ("serious", "plain", "escalator, 全治45日", "エスカレーターに巻き込まれ全治45日のけが"),
    ("serious", "memo", "memo: gas explosion", "カセットコンロのボンベ破裂、相談者顔面熱傷、入院3週間"),
    ("serious", "plain", "battery explosion, fire", "モバイルバッテリーが膨らんで破裂し、布団が燃えました"),
    ("serious", "line", "fire truck", "充電器から火ぃでて消防車きた🚒"),
    ("serious", "plain", "infant choking, died", "おもちゃの部品を飲み込んだ子どもが窒息し、亡くなりました"),
    ("serious", "plain", "treatment 1 year", "エステの脱毛でやけどをし、治療に1年かかると言われました"),
    ("serious", "memo", "memo: ladder, 頭部外傷 手術", "脚立破損→転落、頭部外傷で開頭手術"),
    ("serious", "plain", "CO, katakana", "車中泊でポータブルストーブを使ったら一酸化炭素で家族全員が病院へ運ばれました"),
    ("serious", "line", "bone, misspelt 骨せつ", "じてんしゃのハンドルとれて転んで骨せつしたー🤕"),
    ("serious", "plain", "fire, 全焼", "ガスコンロの火がつかない不具合で修理した後、出火して家が全焼しました"),
    ("serious", "plain", "burn, admitted 2 weeks (admission)", "湯たんぽが破れて娘が太ももにやけど、2週間入院しました"),
    ("minor", "plain", "treatment 2 weeks", "ヘアアイロンで首をやけどして、全治2週間です"),
    ("minor", "line", "rash", "日焼け止めぬったらかぶれた🥲"),
    ("minor", "plain", "sprain, 通院", "ルームランナーから落ちて足首をねんざし、整形外科に通院しています"),
    ("minor", "memo", "memo: smell + smoke only", "炊飯器から異臭・白煙。使用中止済。けが・火災なし。"),
    ("minor", "plain", "charger hot, scorched outlet", "充電器を挿していたコンセントが焦げていました。火は出ていません"),
    ("minor", "plain", "burn, not admitted", "電気ケトルのお湯がこぼれて子どもが腕にやけどしました。入院は必要ないそうです"),
    ("none", "plain", "fire insurance bundled", "賃貸の更新で火災保険に強制加入させられたのは問題ですか"),
    ("none", "plain", "CO alarm sold at door", "一酸化炭素警報器の訪問販売が来て、「設置義務がある」と言われた"),
    ("none", "plain", "accident 3 years ago already reported (issue example)", "3年前のストーブの火事で母が入院した件は、もう報告してあります。今日は給付金詐欺の相談です"),
    ("none", "line", "hospital visit unrelated", "きょう病院いってきた〜インフルだった😷 それと通販の返品について"),
    ("none", "plain", "fireworks event news", "花火大会で事故があったと友人から聞きました"),
    ("none", "plain", "food delivery late", "宅配の弁当が2時間遅れて冷めていました"),
    ("none", "memo", "memo: insurance agent rude", "医療保険代理店の説明不足。入院給付金の対象外と言われた。"),
    ("none", "plain", "fire drill equipment sales", "防災グッズのセットを電話勧誘で買わされました。火事や地震に備えろと言われた"),
    ("none", "plain", "game character died", "スマホゲームのキャラが死んだのに課金が返ってこない"),
    ("none", "line", "cooking fire alarm false", "焼肉してたら火災報知器なった笑 火事じゃないよ"),
    ("none", "plain", "pet dog surgery", "ドッグフードで犬が腸閉塞になり手術しました"),
    ("none", "memo", "memo: property only, car scratched", "立体駐車場で車に傷。人的被害なし。"),
    ("none", "plain", "burnt-out lightbulb (figurative 焼けた)", "電球が焼けて切れたので交換したい。保証はありますか"),
    ("none", "plain", "sunburn at tanning salon contract", "日焼けサロンの回数券を解約したい"),
]

# Fresh set: written after the rules, never used to tune them, measured once as a blind check
# (bench/data/accident_v2_fresh.jsonl, frozen like test). Each row is its own group.
FRESH: list[tuple[str, str, str, str]] = [
    ('serious', 'plain', 'heater ignited futon, mother burned, in hospital', 'こたつの中で布団がくすぶって燃え出し、母が足をやけどして今も病院に入っています'),
    ('serious', 'line', 'battery exploded, fire, line', 'スマホのバッテリー爆発して火ついた🔥🔥'),
    ('serious', 'line', 'ebike battery fire', '電動チャリのバッテリーから火花でて燃えちゃった'),
    ('serious', 'memo', 'memo: 出火 from 延長コード', '延長コード付近より出火、床焼損。相談者軽傷。'),
    ('serious', 'plain', 'extension cord fire, smoke alarm, extinguished', '延長コードから炎が上がり、消火器で消しました。壁が黒く焼けています。'),
    ('serious', 'plain', 'child fell from bunk bed, broken arm', '二段ベッドの柵が外れて娘が落ち、腕の骨を折りました'),
    ('serious', 'plain', 'elderly fell, broken hip, hospital', '介護ベッドから祖母が落ちて、大腿骨を折って入院しています。'),
    ('serious', 'line', 'finger cut off by door, line', 'ドアに指はさんで指先とれた😭病院で縫った'),
    ('serious', 'memo', 'memo: 全治4週', '相談者、キックボードで転倒。右手首骨折、全治4週間。'),
    ('serious', 'plain', 'heat pack burn, 2 months', '使い捨てカイロで低温やけどになり、治るのに2か月かかりました'),
    ('serious', 'plain', 'supplement liver damage admitted', 'ダイエットサプリを飲んでいたら肝臓の数値が悪くなり、2週間入院しました'),
    ('serious', 'plain', 'food allergy anaphylaxis, ICU', '表示になかった卵が入っていて、息子がアナフィラキシーショックで集中治療室に入りました'),
    ('serious', 'plain', 'choking on jelly, died', '高齢の父がゼリーをのどに詰まらせて亡くなりました。'),
    ('serious', 'memo', 'memo: CO from generator', '発電機を屋内で使用、家族3名CO中毒で救急搬送'),
    ('serious', 'plain', 'CO from charcoal grill indoors', '室内で七輪を使ったら一酸化炭素中毒で夫が倒れました'),
    ('serious', 'plain', 'hair removal burn scar permanent', '脱毛サロンの施術でやけどし、一生残る傷跡になると医師に言われました'),
    ('serious', 'plain', 'eye injury, vision loss', 'おもちゃのレーザーが目に当たって、子どもの視力が戻らず後遺症が残るそうです'),
    ('serious', 'line', 'hospitalized after eating, line', '通販の干物たべたら家族みんな食中毒で入院😵'),
    ('serious', 'plain', 'massage chair neck injury, surgery', 'マッサージチェアで首を痛めて、手術が必要と言われました'),
    ('serious', 'memo', 'memo: 意識障害', '電気毛布使用中、祖父が意識障害で搬送、入院'),
    ('serious', 'plain', 'stove fire, house burned down', '石油ストーブの火が洗濯物に燃え移って、家が全部焼けてしまいました'),
    ('serious', 'plain', 'microwave fire', '電子レンジの中で火花が散って、庫内が燃えました'),
    ('serious', 'line', 'kana only admission', 'おかあさん、ストーブでやけどしてにゅういんしました'),
    ('serious', 'plain', 'treatment 50 days', '自転車のブレーキが効かず転倒、治療に50日かかるそうです'),
    ('serious', 'plain', 'bath seat drowning, unconscious', '浴槽の浮き輪で赤ちゃんがおぼれて意識がありません'),
    ('serious', 'memo', 'memo: 死亡事故', '相談者の夫、電動工具の事故で死亡。'),
    ('serious', 'plain', 'gas cartridge explosion, face burns, admitted', 'カセットボンベが爆発して顔にやけどを負い、入院しました'),
    ('serious', 'line', 'smartphone caught fire in bed', '充電してたスマホが布団のなかで燃えた！！こわすぎ'),
    ('serious', 'plain', 'toy magnet swallowed, surgery', '子どもが磁石のおもちゃを飲み込み、開腹手術になりました'),
    ('serious', 'plain', 'past accident, never reported', '半年前に電気ケトルが倒れて子どもが大やけどし、1か月入院しました。どこにも伝えていません'),
    ('minor', 'plain', 'minor burn', 'ホットプレートで手をやけどしました。水ぶくれになっています'),
    ('minor', 'plain', 'cut finger on can', '缶詰のふたで指を切って、3針縫いました'),
    ('minor', 'line', 'rash from detergent', '洗剤で手あれひどい😣'),
    ('minor', 'plain', 'hot smell from charger', '充電器がすごく熱くなって、プラスチックが溶けたようなにおいがしました'),
    ('minor', 'memo', 'memo: smoke from dryer', 'ドライヤー使用中に異音と発煙。けがなし。'),
    ('minor', 'plain', 'stomach pain after delivery food', '宅配ピザを食べた後、腹痛と下痢が2日続きました'),
    ('minor', 'plain', 'bruise from shelf', '組み立て家具の棚が落ちてきて頭にこぶができました'),
    ('minor', 'line', 'minor injury, line', 'キックボードでころんだ💦すりむいただけ'),
    ('minor', 'plain', 'eye irritation from cosmetics, 1 week', 'まつげ美容液で目が腫れて、眼科で全治1週間と言われました'),
    ('minor', 'memo', 'memo: outlet scorched', 'コンセント焦げ跡あり。発火・けがなし。'),
    ('minor', 'plain', 'spark from plug, no fire', 'プラグを差したらバチッと火花が出ました。燃えてはいません'),
    ('minor', 'plain', 'heater smoke, unplugged', 'ヒーターから白い煙が出たので、すぐ電源を切りました'),
    ('none', 'plain', 'fire insurance pushy agent', '「この家は火事のリスクが高い」と言われて火災保険の見直しを迫られました'),
    ('none', 'plain', 'life insurance cancellation', '生命保険の解約返戻金が少なすぎます'),
    ('none', 'line', 'smoke detector sales', '火災報知器の訪問販売きた😠'),
    ('none', 'memo', 'memo: fire alarm sales', '住警器点検商法。相談者70代。'),
    ('none', 'plain', 'CO checker sold', 'キャンプ用の一酸化炭素チェッカーを買ったら不良品でした'),
    ('none', 'plain', 'news: recall of batteries', 'モバイルバッテリーのリコールのニュースを見ました。返金してもらえますか'),
    ('none', 'plain', 'hearsay from sister', '姉の家の近くで火事があったそうです。うちも気をつけます'),
    ('none', 'plain', 'already reported, follow-up', '先月報告したストーブの件、その後メーカーから連絡がありません'),
    ('none', 'plain', 'old accident settled', '5年前に自転車で骨折した件は示談で解決しました。今日は別の相談です'),
    ('none', 'plain', 'dog ate toy, surgery', '犬がおもちゃを飲み込んで手術しました。メーカーに言いたい'),
    ('none', 'line', 'cat hurt, line', 'ねこがヒーターでやけどした😿'),
    ('none', 'plain', 'TV broke, no harm', 'テレビの画面が映らなくなりました。修理代が高いです'),
    ('none', 'plain', 'pipe burst water damage', '給水管が破裂して下の階まで水漏れしました'),
    ('none', 'line', 'toast smoke', 'パン焼いたら煙もくもく😂'),
    ('none', 'plain', 'grill smoke set off alarm', 'グリルで肉を焼いたら煙で警報が鳴りました。火は出ていません'),
    ('none', 'plain', 'father in hospital, cancel gym', '父が入院したのでジムの会員を解約したいです'),
    ('none', 'memo', 'memo: deceased, inheritance contract', '相談者の父死亡、遺品整理業者の高額請求'),
    ('none', 'plain', 'cosmetic surgery contract', '二重の手術を勧められて高額なローンを組まされました'),
    ('none', 'plain', 'hospital appointment', '来週手術の予定なので、それまでに解約を済ませたい'),
    ('none', 'line', 'figurative fire', 'セールで財布が火の車🔥'),
    ('none', 'plain', 'burnout figurative', '仕事が忙しくて燃え尽きそうです。エステの解約をしたい'),
    ('none', 'plain', 'heater worry', '古いストーブを使っていますが、火事が怖いので買い替えを考えています'),
    ('none', 'plain', 'fire extinguisher expired', '消火器の使用期限が切れていると言われて交換を迫られました'),
    ('none', 'memo', 'memo: medical insurance claim refused', '医療保険、手術給付金不払い。'),
    ('none', 'plain', 'online game death', 'オンラインゲームで死んだらアイテムが消えました'),
    ('none', 'plain', 'hospital bill', '手術代の請求書が二重に届きました'),
    ('none', 'plain', 'car accident insurance (not product)', '自動車保険の事故対応が遅いです'),
    ('none', 'plain', 'burning sensation figurative? ad', '「脂肪が燃える」という広告のサプリを買ったけど効果がありません'),
]

# Second fresh set: written after the first round of fixes prompted by FRESH, never used to tune
# (bench/data/accident_v2_fresh2.jsonl, frozen).
FRESH2: list[tuple[str, str, str, str]] = [
    ('serious', 'plain', 'hot water bottle leak, burn, 3 weeks hospital', '湯たんぽのふたが外れてお湯がかかり、父が三週間入院することになりました'),
    ('serious', 'plain', 'space heater fire, fire brigade', 'オイルヒーターの裏から炎が見えて、消防を呼びました'),
    ('serious', 'line', 'charger fire kana', 'じゅうでんきから ひがでて カーテンもえた'),
    ('serious', 'memo', 'memo: 火災, 119', '相談者宅、加湿器より火災発生、119通報'),
    ('serious', 'plain', 'scooter fall, skull fracture', '電動キックボードで転んで頭蓋骨にひびが入りました'),
    ('serious', 'plain', 'gym machine crushed leg, surgery', 'ジムのマシンに足をはさまれて、骨が折れて手術をしました'),
    ('serious', 'line', 'eye injury permanent', '花火の不良で目をけがして、医者に視力はもどらないって言われた'),
    ('serious', 'plain', 'child hung by blind cord, unconscious', 'ブラインドのひもが首に巻きついて、子どもが一時意識を失いました'),
    ('serious', 'memo', 'memo: 加療3ヶ月', '健康器具使用で腰椎圧迫骨折。加療3ヶ月。'),
    ('serious', 'plain', 'food poisoning, hospitalized', '通販の生ガキを食べて夫と二人で入院しています'),
    ('serious', 'plain', 'CO, headaches, hospital diagnosed', '湯沸かし器をつけていたら家族全員頭が痛くなり、一酸化炭素中毒と言われました'),
    ('serious', 'line', 'death, line', 'おじいちゃんが電動ベッドにはさまってなくなった'),
    ('serious', 'plain', 'cosmetic surgery burn, 6 weeks', '美容医療のレーザーでやけどし、治療期間は6週間の見込みです'),
    ('serious', 'plain', 'product fire while away', '外出中にロボット掃除機の充電台から発火し、床が焦げていました'),
    ('serious', 'memo', 'memo: burns 全治2か月', 'ヘアアイロン落下、乳児の足に熱傷、全治2か月'),
    ('serious', 'plain', 'amputation by shredder', 'シュレッダーに子どもの指が巻き込まれて、指先を切断しました'),
    ('serious', 'plain', 'dental device, nerve damage lasting', '歯科の器具で神経を傷つけられ、しびれの後遺症が残っています'),
    ('serious', 'line', 'battery caught fire car', '車でモバイルバッテリー燃えてシート焼けた😱'),
    ('serious', 'plain', 'fall from ladder, in ICU', 'はしごが折れて夫が転落し、ICUにいます'),
    ('serious', 'plain', 'stove explosion, burns, ambulance, admitted', 'カセットコンロが爆発して私が顔をやけど、救急車で運ばれて入院しました'),
    ('minor', 'plain', 'rash from necklace', 'ネックレスで首がかぶれて皮膚科に行きました'),
    ('minor', 'plain', 'small burn from iron', 'アイロンで指を少しやけどしました'),
    ('minor', 'line', 'bike brake fail, scrape', 'チャリのブレーキきかなくてころんだ。ひざすりむいた'),
    ('minor', 'memo', 'memo: 発煙のみ', '電気毛布コントローラーから発煙、焦げ跡。人的被害なし。'),
    ('minor', 'plain', 'diarrhea from supplement', '健康茶を飲んだらおなかをこわしました'),
    ('minor', 'plain', 'melted cable', 'ゲーム機のケーブルが溶けて焦げていました。火は出ていません'),
    ('minor', 'plain', 'whiplash 2 weeks', 'マッサージで首を痛め、全治2週間でした'),
    ('none', 'plain', "fire insurance 'free repair' scam", '台風の被害は火災保険でタダで直せると言う業者が来ました'),
    ('none', 'plain', 'insurance for hospital stay solicitation', '入院保障が手厚い保険に入りませんかと何度も電話が来ます'),
    ('none', 'line', 'alarm sales line', 'ガス警報器を勝手に交換されて請求きた'),
    ('none', 'memo', 'memo: extinguisher sales', '消火器、点検商法。契約後解約希望。'),
    ('none', 'plain', 'news about a fire elsewhere', '昨日のニュースで、同じメーカーの電気毛布で火事があったと知りました'),
    ('none', 'plain', 'hypothetical child safety question', '子どもが誤って飲み込んだらどうなりますか'),
    ('none', 'plain', 'worry about smell, nothing happened', '新しいストーブが少しにおいますが、大丈夫でしょうか'),
    ('none', 'plain', 'already reported last week', '先週お電話したヒーター発火の件で、追加の写真を送ります'),
    ('none', 'plain', 'past settled accident', '2年前の脚立の事故はメーカーと和解済みです。今回は訪問販売の件です'),
    ('none', 'plain', 'pet bird died from heater', 'ヒーターのそばに置いていたインコが死んでしまいました'),
    ('none', 'line', 'dog hurt by toy', 'いぬがおもちゃで口を切った🐶'),
    ('none', 'plain', 'car scratched in parking', '駐車場の機械で車がへこみました。けがはありません'),
    ('none', 'plain', 'cooking smoke grill', 'フライパンを焦がして煙が出ましたが、すぐ換気しました'),
    ('none', 'plain', 'mother in hospital, unrelated', '母が骨折で入院していますが、それとは別に、訪問販売で布団を買わされた件です'),
    ('none', 'memo', 'memo: 入院中の相談者', '相談者入院中のため家族が代理で電話。定期購入の解約。'),
    ('none', 'plain', 'funeral costs', '父が亡くなり、葬儀のプランでもめています'),
    ('none', 'plain', 'figurative flame war', 'SNSで商品の悪口を書いたら燃えてしまいました'),
    ('none', 'plain', 'candle fragrance ad', 'アロマキャンドルを火をつけずに使える商品を探しています'),
    ('none', 'line', 'spicy food figurative', '激辛ラーメンで口から火でそう🔥笑'),
    ('none', 'plain', 'hospital surgery fee dispute', '手術の費用が見積もりより高かったです'),
    ('none', 'plain', "game 'died'", 'ゲームのキャラが何回も死ぬのでお金を払えと表示が出ます'),
]


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for gi, (label, style, reason, tpl) in enumerate(T):
        n = 4 if label == "serious" else 3
        for _ in range(n * 3):
            text = tpl.format(h=rng.choice(HEAT), w=rng.choice(WHO), t=rng.choice(THING), f=rng.choice(FOOD))
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label, "reason": reason, "style": style, "group": f"t{gi:03d}"})
            if sum(r["group"] == f"t{gi:03d}" for r in rows) >= n:
                break
    for hi, (label, style, reason, text) in enumerate(H):
        if text not in seen:
            seen.add(text)
            rows.append({"text": text, "label": label, "reason": reason, "style": style, "group": f"h{hi:03d}"})
    return rows


def split(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Grouped split: per label, shuffle groups with SEED and send ~40% of them to test."""
    rng = random.Random(SEED)
    test_groups: set[str] = set()
    for label in ("serious", "minor", "none"):
        groups = sorted({r["group"] for r in rows if r["label"] == label})
        rng.shuffle(groups)
        test_groups.update(groups[: round(len(groups) * 0.4)])
    return [r for r in rows if r["group"] not in test_groups], [r for r in rows if r["group"] in test_groups]


def dump(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    dev, test = split(build())
    fresh = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"f{i:03d}"}
        for i, (lab, style, why, t) in enumerate(FRESH)
    ]
    fresh2 = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"g{i:03d}"}
        for i, (lab, style, why, t) in enumerate(FRESH2)
    ]
    test_path, dev_path = here / "accident_v2_test.jsonl", here / "accident_v2_dev.jsonl"
    fresh_path, fresh2_path = here / "accident_v2_fresh.jsonl", here / "accident_v2_fresh2.jsonl"
    for path, part in ((test_path, test), (fresh_path, fresh), (fresh2_path, fresh2)):
        if path.exists() and path.read_text(encoding="utf-8") != dump(part):
            print(f"{path} is frozen and differs from what this script generates: refusing to overwrite it",
                  file=sys.stderr)
            return 1
    if "--check" in argv:
        print("test, fresh and fresh2 match the generator")
        return 0
    test_path.write_text(dump(test), encoding="utf-8")
    fresh_path.write_text(dump(fresh), encoding="utf-8")
    fresh2_path.write_text(dump(fresh2), encoding="utf-8")
    dev_path.write_text(dump(dev), encoding="utf-8")
    for name, part in (("dev", dev), ("test", test), ("fresh", fresh), ("fresh2", fresh2)):
        counts = {lab: sum(r["label"] == lab for r in part) for lab in ("serious", "minor", "none")}
        print(name, len(part), counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
