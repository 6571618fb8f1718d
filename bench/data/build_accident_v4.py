"""Build the accident-screening set v4: bench/data/accident_v4_{dev,test,fresh,fresh2,fresh3}.jsonl.

173 messages written by hand on 2026-12-02 by one author (accident-screener), labelled BEFORE the
screener was run on them, covering kinds the v2 sets lack: kana and misspelt words, dialect (燃えてもうた,
火ぃ出た, 骨折しとる), long rambling calls, memo abbreviations (→入院, 加療8週, 縫合), fire words (ぼや,
火柱, 引火, 火の手, literal 炎上 of a car), severity words (ギプス, ヒビ, 気を失って, 息を引き取, 帰らぬ人,
視力が戻らない, 病院に入っています, ひと月/半年), swallowed batteries and magnets; minors with 縫った, 救急搬送
then home, near misses (燃えるところでした, 火が出そうになった); hard negatives: idioms (骨を折って, 火の車,
燃え尽きた, 心折れた), insurance and alarm sales, hypotheticals (火が出たら怖い), pets only, unrelated
入院/死亡, old accidents already reported.

Labels follow bench/data/build_accident_v2.py: ``serious`` (death, 30+ days of treatment — 入院, 手術, 骨折,
切断, 意識不明 taken as such —, 後遺症, CO poisoning, fire with flames), ``minor`` (a possible 消費者事故等,
not 重大: short treatment, smoke/scorch/sparks without flames, near misses), ``none``.

Split: per label, rows are shuffled with SEED and ~35% go to test. accident_v4_test.jsonl is FROZEN
(never tuned on; the script refuses to write a different one). Run:
    .venv/bin/python bench/data/build_accident_v4.py [--check]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20261202
S, M, N = "serious", "minor", "none"

# (label, style, reason, text)
ROWS: list[tuple[str, str, str, str]] = [
    (S, "line", "fire: 火ついた, kana", "充電してたら モバイルバッテリーに火ついて ソファ焦げた"),
    (S, "plain", "fire: ぼや", "電気毛布が原因でぼやが起きて、布団が一部焼けました。"),
    (S, "plain", "fire: ボヤ騒ぎ katakana", "トースターからボヤ騒ぎになり、消防の方が来ました。"),
    (S, "line", "fire: 火吹いた", "ドライヤー急に火ふいた😱😱手は無事"),
    (S, "plain", "fire: 火柱", "ガスコンロの元栓をひねったら火柱が上がって、前髪と眉毛が焼けました。"),
    (S, "plain", "fire: 引火", "スプレー缶のガスがストーブに引火して、台所の壁紙が燃えました。"),
    (
        S,
        "memo",
        "memo: 火災 by 電動自転車",
        "電動アシスト自転車バッテリー、玄関で充電中に火災。消防の調査あり。",
    ),
    (S, "plain", "fire: car 炎上 literal", "買ったばかりの中古車がエンジンから炎上し、全焼しました。"),
    (S, "line", "fire: dialect 燃えてもうた", "こたつの中で座布団燃えてもうた🔥 ばあちゃんびっくりしとった"),
    (S, "line", "fire: 火ぃ出た dialect", "延長コードから火ぃ出たけん、すぐ消したばい"),
    (S, "plain", "fire: 燃え広がった", "充電中のタブレットから出た火が、カーテンまで燃え広がりました。"),
    (S, "plain", "fire: 黒焦げ, flames", "電子レンジの中で炎があがり、庫内が真っ黒に焦げました。"),
    (S, "memo", "memo: 発火 kana", "ハンディファン はっか。机上のプリント焼損。相談者けがなし"),
    (S, "plain", "fire: 消火器で消した", "加湿器のコード部分から火が出たので、消火器で消しました。"),
    (S, "line", "fire: もえた kana, misspelt", "でんきストーブのそばのせんたくものがもえたーーどうしよ"),
    (
        S,
        "plain",
        "fire: long rambling",
        "先週の土曜日の夜のことなんですけど、主人が買ってきた中国製の充電式カイロを、寝る前に枕元で充電していたら、夜中にパチパチって音がして、見たら炎が出ていて、慌てて水をかけました。枕とシーツが焼けて穴があいています。販売店に言っても取り合ってくれません。",
    ),
    (
        S,
        "plain",
        "fire: 火事になりかけ but flames present",
        "洗濯乾燥機から炎が見えて、あと少しで火事になるところでした。床が焼けています。",
    ),
    (S, "memo", "memo: 出火 short", "リチウム電池の懐中電灯より出火。押入れ内一部焼失"),
    (S, "line", "fire: 燃えた with emoji", "電気ケトルの底から火でて台所燃えた😭"),
    (S, "plain", "fire: 火が回って", "石油ファンヒーターの給油口から火が回って、ふすまが焦げて燃えました。"),
    (
        S,
        "plain",
        "fire: 火がついた clothes",
        "ガスコンロの火が袖について、母が腕にやけどを負いました。治療に２か月かかるそうです。",
    ),
    (S, "line", "fire: 燃えだした", "ＵＳＢの扇風機もえだした！！まじで？？"),
    (
        S,
        "plain",
        "fire: polite, 火災が発生",
        "ご報告いたします。弊宅にてLEDランタンより火災が発生し、居間の一部を焼損しました。",
    ),
    (S, "memo", "memo: 車両火災", "購入３日後の車両火災。エンジンルーム焼損。相談者は避難し無事。"),
    (S, "line", "fire: 火でた typo", "スマホの充電ケーブルから火がでたよー、床が黒こげ"),
    (
        S,
        "plain",
        "surgery colloquial: 手術することに",
        "ベビーカーの折りたたみ部分で息子の指を挟んで、手術することになりました。",
    ),
    (S, "line", "surgery kana misspelt", "ふみだいから落ちてひざのしゅじゅつ、、、"),
    (S, "plain", "fracture: 骨にヒビ", "電動ベッドの柵が外れて父が落ち、肋骨にヒビが入りました。"),
    (
        S,
        "plain",
        "fracture: ギプス, 骨折",
        "キックボードのブレーキが効かず、娘が腕を骨折してギプスをしています。",
    ),
    (S, "line", "fracture: 折れた arm", "自転車のペダルもげて転んで腕の骨折れた😭"),
    (S, "memo", "memo: 橈骨骨折", "エアロバイク使用中サドル脱落、転倒。左橈骨遠位端骨折。"),
    (S, "plain", "amputation: 指先を失う", "シュレッダーに娘の指が巻き込まれ、指先を失いました。"),
    (S, "line", "amputation: 指とれた", "電動のこぎりで親指とれかけて縫ってもらった、まだ入院してる"),
    (
        S,
        "plain",
        "30+ days: ひと月 kana numeral",
        "ヘアアイロンで首に大やけどをして、治るまでひと月以上かかると言われました。",
    ),
    (S, "plain", "30+ days: 全治三ヶ月 kanji", "ルームランナーから転げ落ちて、全治三ヶ月の大けがでした。"),
    (S, "memo", "memo: 加療8週", "折り畳み自転車のフレーム破断、転倒。顔面打撲、加療8週間見込み。"),
    (S, "plain", "30+ days: 通院が2か月", "美容院のパーマ液で頭皮がただれ、皮膚科に2か月通っています。"),
    (
        S,
        "plain",
        "unconscious: 気を失って",
        "こんにゃくゼリーを食べた祖父がのどに詰まらせ、気を失って救急車で運ばれました。",
    ),
    (
        S,
        "line",
        "unconscious: 意識なくて",
        "おばあちゃんがお餅…じゃなくて通販のゼリーつまらせて意識なくて救急車きた",
    ),
    (
        S,
        "plain",
        "death: 息を引き取",
        "電気あんかで低温やけどを負った祖母が、その後病院で息を引き取りました。",
    ),
    (S, "memo", "memo: 死亡 of infant", "乳児、ベビーベッドの柵に首を挟まれ死亡。両親より相談。"),
    (S, "plain", "death: 帰らぬ人", "ガス湯沸かし器の事故で、一人暮らしの父が帰らぬ人となりました。"),
    (S, "plain", "disability: 失明", "おもちゃの吹き矢が目に当たり、孫が片目を失明しました。"),
    (
        S,
        "plain",
        "disability: 視力が戻らない",
        "レーザー脱毛の施術で目を傷め、視力が戻らないと言われています。",
    ),
    (S, "line", "disability: 傷あと残る", "脱毛エステでやけどして、一生あとが残るって言われた😢"),
    (S, "memo", "memo: 後遺障害", "美容医療（糸リフト）後、顔面神経麻痺の後遺症。"),
    (
        S,
        "plain",
        "admitted: 病院に入って colloquial",
        "通販の健康茶を飲んでから母の肝臓の数値が悪くなって、今も病院に入っています。",
    ),
    (
        S,
        "plain",
        "admitted: 入院することに",
        "電気マッサージ器で腰を痛めた父が、そのまま入院することになりました。",
    ),
    (S, "line", "admitted: にゅういんしてる kana", "こどもが加湿器のお湯かぶってにゅういんしてる"),
    (S, "memo", "memo: 入院加療", "健康食品摂取後、急性肝炎で入院加療中（相談者本人）"),
    (
        S,
        "plain",
        "admitted: 集中治療室",
        "洗剤を誤って飲んだ息子が集中治療室に入りました。容器がジュースのようでした。",
    ),
    (
        S,
        "plain",
        "ligament rupture + surgery",
        "トランポリンパークで着地に失敗し、アキレス腱が断裂して手術を受けました。",
    ),
    (S, "line", "burn severe, skin graft kana", "湯たんぽのやけどひどくて、ひふいしょくするって"),
    (
        S,
        "plain",
        "heat stroke in car seat? no: crushed",
        "電動シャッターに挟まれた母が、骨盤を骨折して寝たきりになりました。",
    ),
    (S, "plain", "stitches + 30 days", "ガラスのテーブルが割れて脚を深く切り、20針縫って全治5週間です。"),
    (
        S,
        "plain",
        "CO: 一酸化炭素 symptom diag",
        "車中泊でカセットガスストーブを使っていて、夫と二人とも一酸化炭素中毒で病院に運ばれました。",
    ),
    (S, "line", "CO kana", "いっさんかたんそちゅうどくで父が救急車"),
    (S, "memo", "memo: CO中毒 給湯器", "屋外給湯器の排気不良、家族3名CO中毒症状、搬送"),
    (S, "plain", "CO: 不完全燃焼で中毒", "古い湯沸かし器の不完全燃焼で、母が中毒になり入院しました。"),
    (
        S,
        "plain",
        "old but not reported, admission",
        "半年ほど前に電動ベッドに挟まれて父が入院したのですが、どこに相談すればいいか分からず今になりました。",
    ),
    (S, "memo", "memo: 1年前 fire, unreported", "1年前のストーブ出火、これまで未報告。相談者が報告希望。"),
    (M, "line", "stitches short, 縫った", "包丁の柄がとれて指きって3針ぬった"),
    (
        M,
        "plain",
        "stitches, 1 week",
        "折りたたみテーブルの金具で手を切り、病院で5針縫いました。抜糸は1週間後です。",
    ),
    (
        M,
        "plain",
        "救急搬送 then sent home",
        "サプリを飲んだ後に息苦しくなって救急車で運ばれましたが、その日のうちに帰宅できました。",
    ),
    (M, "line", "small burn 水ぶくれ", "ヘアアイロンで首やけどして水ぶくれできた"),
    (M, "plain", "smoke only, no flames", "電気毛布のコントローラーから煙が出て、焦げたにおいがしました。"),
    (M, "memo", "memo: 発煙, no fire", "モバイルバッテリー膨張、発煙。火は出ず。けがなし。"),
    (M, "line", "sparks no fire", "コンセントさしたら火花バチッて散ったこわ"),
    (M, "plain", "melted plug", "延長コードのプラグ部分が溶けてしまいました。火は出ていません。"),
    (M, "plain", "rash 2 weeks", "毛染めで頭皮がかぶれて、全治2週間と言われました。"),
    (
        M,
        "plain",
        "near-miss fire (hypothetical)",
        "ストーブの近くに置いた洗濯物が焦げて、もう少しで燃えるところでした。",
    ),
    (M, "line", "near-miss: 火が出そうだった", "充電器めっちゃ熱くて火が出そうになった😨"),
    (
        M,
        "plain",
        "sprain 10 days",
        "ランニングマシンのベルトが急に止まって足首をねんざしました。全治10日です。",
    ),
    (M, "memo", "memo: 打撲, 通院1回", "折り畳み椅子脚部破損、転倒、臀部打撲。通院1回。"),
    (M, "plain", "food: diarrhea recovered", "宅配の弁当で家族全員お腹をこわしましたが、2日で治りました。"),
    (M, "line", "kid minor injury", "ベビーカーで子どもの指はさんだ、ちょっと赤くなっただけ"),
    (
        M,
        "plain",
        "fracture suspected but not",
        "脚立から落ちて骨折かと思いましたが、レントゲンでは打撲だけでした。",
    ),
    (
        M,
        "plain",
        "hospital but not admitted",
        "病院で診てもらいましたが、入院するほどではないと言われました。電気マッサージ器で首を痛めました。",
    ),
    (M, "memo", "memo: 熱傷I度", "ヘアドライヤー吹出口で右手熱傷Ⅰ度、外来処置のみ"),
    (M, "plain", "scorched outlet", "コンセント周りが黒く焦げていて、焦げ臭いです。"),
    (M, "line", "dialect minor burn", "湯たんぽでちょっとやけどしたけん、薬ぬっとる"),
    (M, "plain", "eye irritation, 1 visit", "スプレー洗剤が目に入って痛くて、眼科に1回行きました。"),
    (M, "plain", "allergy, 数日", "通販の化粧水で顔が赤く腫れて、数日で引きました。"),
    (
        M,
        "plain",
        "long rambling minor",
        "あのですね、去年の冬に買ったセラミックヒーターなんですけど、昨日の夜つけっぱなしにしてたら変なにおいがしてきて、見たら裏のところがちょっと溶けてたんですよ。火とかは出てないんですけど、怖くて使えないので返品したいんです。",
    ),
    (M, "line", "smoke kana", "ドライヤーからけむりでてくさい"),
    (
        M,
        "plain",
        "burn 3 weeks",
        "低温やけどで皮膚科に通い、3週間ほどで治りました。電気あんかが原因だと思います。",
    ),
    (
        N,
        "plain",
        "sales: 火災保険 repair",
        "「台風の被害は火災保険で直せる」という業者と契約したが、高い手数料を請求された。",
    ),
    (N, "line", "sales: 警報器", "ガス警報器の交換しないと一酸化炭素で死ぬっていわれて契約しちゃった"),
    (
        N,
        "plain",
        "sales: 消火器 phone",
        "「消火器の使用期限が切れている、火事になったら責任を問われる」と電話があり、業者が来ました。",
    ),
    (N, "memo", "memo: 医療保険 解約", "医療保険（入院・手術特約）の解約手続き方法の問合せ。"),
    (
        N,
        "plain",
        "sales: 入院給付金",
        "入院給付金が出ると言われて保険に入ったのに、支払われないと言われました。",
    ),
    (
        N,
        "plain",
        "sales: 骨折 insurance pitch",
        "「高齢者は転んで骨折すると寝たきりになる」と言われて、高額な手すり工事を契約しました。",
    ),
    (N, "line", "sales: 住宅用火災警報器", "火災報知器の点検ですって来た人に3台買わされた😤"),
    (N, "plain", "sales: 死亡保障", "死亡保障付きの共済を勧められましたが、断りたいです。"),
    (
        N,
        "plain",
        "sales: 防犯/防災セット fear",
        "「地震で家が燃えたら困るでしょう」と防災セットを高額で売られました。",
    ),
    (N, "memo", "memo: がん保険 勧誘", "がん保険電話勧誘。「手術費用が全額出る」と説明。契約意思なし。"),
    (
        N,
        "plain",
        "hypothetical: 火が出たら怖い",
        "このモバイルバッテリー、膨らんでいるように見えます。火が出たら怖いので処分方法を教えてください。",
    ),
    (N, "line", "worry: 燃えるかも", "ストーブの前に洗濯物干してるけど燃えるかもしれない？"),
    (
        N,
        "plain",
        "news: 死亡事故 of others",
        "ネットで同じベビーベッドで赤ちゃんが亡くなった事故の記事を見ました。使い続けて大丈夫ですか。",
    ),
    (
        N,
        "plain",
        "hearsay: friend's fracture",
        "友人から、同じキックボードで骨折した人がいると聞きました。返品できますか。",
    ),
    (
        N,
        "plain",
        "recall notice",
        "電気ケトルのリコールのお知らせがメーカーから届きました。事故は起きていません。交換の方法を知りたいです。",
    ),
    (N, "line", "worry kana", "このヒーターはっかしたりしない？しんぱい"),
    (N, "plain", "question about law", "重大事故が起きたときに事業者が報告する制度について教えてください。"),
    (
        N,
        "memo",
        "memo: 情報提供のみ",
        "SNSでドライヤー発火の投稿を見たとの情報提供。相談者の製品に異常なし。",
    ),
    (
        N,
        "plain",
        "old, already reported to center",
        "2年前にストーブから火が出た件は、そのとき消費生活センターに連絡して処理してもらいました。今回はネット通販の返品の話です。",
    ),
    (
        N,
        "memo",
        "memo: 既報告 第2報 inquiry",
        "先月報告済みの骨折事故について、メーカー回答の有無の確認のみ。",
    ),
    (N, "line", "old, solved", "むかし自転車で骨折したのはもう示談したからいいの。今日はサブスクの解約"),
    (N, "plain", "pet: dog fracture", "ペット用の階段が壊れて、うちの犬が足を骨折しました。"),
    (N, "line", "pet: cat burn", "ねこがホットカーペットで低温やけどしたっぽい、動物病院いく"),
    (N, "memo", "memo: pet death food", "ドッグフード摂取後、飼い犬が死亡。相談者は原因究明を希望。"),
    (
        N,
        "plain",
        "property: water leak",
        "食洗機から水が漏れて、下の階の天井にしみができました。けが人はいません。",
    ),
    (N, "plain", "property: TV broken", "テレビが映らなくなり、修理代を5万円請求されました。"),
    (N, "line", "property: phone broke", "スマホ落としたら画面割れた、保証きく？"),
    (
        N,
        "plain",
        "unrelated: 入院中 cancel",
        "父が脳梗塞で入院しているので、父名義の定期購入を止めたいです。",
    ),
    (
        N,
        "plain",
        "unrelated: surgery booked, cancel fee",
        "美容クリニックの二重手術を予約しましたが、キャンセル料を請求されました。",
    ),
    (
        N,
        "plain",
        "idiom: 骨を折って",
        "先日は担当の方に骨を折っていただき、ありがとうございました。返金が確認できました。",
    ),
    (N, "line", "idiom: 死ぬかと思った (price)", "請求書みて死ぬかと思った😇 5万とかありえん"),
    (N, "plain", "idiom: 火の車", "家計が火の車で、リボ払いの返済ができません。"),
    (N, "plain", "online 炎上", "お店のレビューに正直に書いたら炎上して、業者から削除しろと言われています。"),
    (N, "line", "burnable garbage", "燃えるゴミの日に出したら回収されなかった"),
    (N, "plain", "fireworks purchase", "花火セットをネットで注文したのに届きません。"),
    (N, "plain", "unrelated death: inheritance", "亡くなった母の携帯電話の解約を、ショップに断られました。"),
    (N, "memo", "memo: 死亡後 解約", "契約者（夫）死亡に伴うサブスク解約の相談。事故ではない。"),
    (N, "plain", "stove won't light", "ガスファンヒーターの火がつかないので修理を頼んだら高額でした。"),
    (
        N,
        "plain",
        "手術 cosmetic contract dispute",
        "脂肪吸引の手術の契約をクーリングオフしたいです。まだ施術は受けていません。",
    ),
    (N, "line", "idiom: 心折れた", "解約の電話つながらなくて心折れた"),
    (
        N,
        "plain",
        "old injury mentioned, no product",
        "昔から腰の骨折の後遺症があるので、訪問販売の人に玄関まで出られません。",
    ),
    (N, "plain", "cooking smoke", "フライパンで肉を焼いていたら煙が出て、報知器が鳴りました。"),
    (
        N,
        "plain",
        "heater smell at first use, normal",
        "新品のストーブを初めて使ったら少しにおいがしました。説明書には初回は正常とあります。",
    ),
    (
        S,
        "memo",
        "memo: ambulance + admitted abbreviation",
        "80代女性、電気カーペット上で低温熱傷、救急搬送→入院（2週間予定）",
    ),
    (S, "memo", "memo: 縫合術 + 全治1M", "電動工具刃脱落、左前腕裂創、縫合。全治1か月。"),
    (S, "line", "dialect: 骨折しとる", "じいちゃんが手すり外れてこけて、骨折しとるって"),
    (S, "line", "kana: こっせつ misspelt", "すべりだいのてすりがとれて、むすめがうでこっせつした"),
    (
        S,
        "plain",
        "typo: 入院 written 入隠? no: 入院して居ます",
        "加湿器の熱湯が足にかかった子供が、いまも入院して居ります。",
    ),
    (
        S,
        "plain",
        "foreign-like Japanese",
        "わたしの子ども、おもちゃの電池のみこんで、病院で手術しました。どこに言いますか",
    ),
    (
        S,
        "plain",
        "button battery swallowed + surgery",
        "1歳の息子がボタン電池を飲み込み、内視鏡で取り出す手術をしました。",
    ),
    (
        S,
        "plain",
        "magnet swallowed, surgery",
        "娘が強力マグネットのおもちゃを複数飲み込んで、開腹手術になりました。",
    ),
    (S, "line", "finger severed mixer", "ミキサーの刃で指の先きれちゃって、くっつける手術した"),
    (
        S,
        "plain",
        "heatstroke? no: e-bike crash 意識が戻らない",
        "電動キックボードのハンドルが折れて転倒した息子が、意識が戻らないままです。",
    ),
    (S, "memo", "memo: 窒息, 心肺停止", "3歳児、玩具部品誤嚥し窒息。心肺停止で搬送。"),
    (
        S,
        "plain",
        "rambling, death at end",
        "何からお話ししたらいいのか…。父が使っていた介護ベッドのことなんですが、柵とマットレスの隙間に首が挟まった状態で見つかって、救急車を呼んだんですけど、そのまま亡くなりました。製品のせいなのか知りたいんです。",
    ),
    (S, "plain", "food poisoning 入院 5 days", "通販の生牡蠣を食べた夫がノロウイルスで5日間入院しました。"),
    (
        S,
        "line",
        "CO: テント",
        "キャンプでテントん中で炭つかったら頭いたくなって、病院で一酸化炭素中毒って言われた",
    ),
    (S, "plain", "fire: 火の手", "エアコンの室外機から火の手が上がり、ベランダの物干しが燃えました。"),
    (S, "memo", "memo: 延焼 隣家", "ガスコンロ出火→隣家へ延焼。相談者は入居者。"),
    (S, "line", "fire: 燃えた短", "充電器燃えた"),
    (
        S,
        "plain",
        "fire in memo-ish plain, 焼けた",
        "アイロン台の上でスチームアイロンが燃えて、アイロン台が焼け落ちました。",
    ),
    (S, "plain", "cosmetic: 全治半年", "ハイフの施術で顔にやけどを負い、治るまで半年ほどかかるそうです。"),
    (
        S,
        "line",
        "retinal burn: 目見えにくくなった→失明?",
        "レーザーポインターで子どもの目がやられて、眼科で視力もどらないかもって",
    ),
    (M, "line", "minor, emoji only injury", "はさみの持ち手われて手のひら切った🩸ばんそうこうで止まった"),
    (M, "memo", "memo: 軽傷, 全治2W", "キックボード転倒、擦過傷、全治2週間"),
    (
        M,
        "plain",
        "hot water burn, quick",
        "電気ケトルのふたが外れてお湯がこぼれ、手が赤くなりました。冷やしたら治りました。",
    ),
    (
        M,
        "plain",
        "smoke, detector rang, no fire (product)",
        "乾燥機から白い煙が出て火災報知器が鳴りましたが、炎は出ていませんでした。",
    ),
    (M, "line", "スマホ熱い 膨張", "スマホのバッテリーぱんぱんにふくらんできた、熱い"),
    (M, "plain", "dizziness after supplement, 1 day", "サプリを飲んだらめまいがして、1日寝込みました。"),
    (
        M,
        "plain",
        "dog bite? no: toy cut, outpatient",
        "おもちゃのバリで孫が指を切り、外来で処置してもらいました。",
    ),
    (M, "memo", "memo: 発煙、焦げ跡", "電気ストーブ内部より発煙、本体に焦げ跡。出火なし"),
    (N, "plain", "pet only hospitalized", "ペットヒーターの故障で、うちのうさぎが動物病院に入院しました。"),
    (N, "line", "pet only: インコ death", "インコが加湿器の水のんで死んじゃった😢"),
    (
        N,
        "plain",
        "hypothetical: 子どもが指を挟んだら",
        "このベビーゲートは子どもが指を挟んだら切断しそうで怖いです。改善を求めたい。",
    ),
    (
        N,
        "plain",
        "news TV fire",
        "テレビでモバイルバッテリーが燃える映像を見て怖くなりました。うちのは大丈夫です。",
    ),
    (N, "memo", "memo: 保険金請求 過去火災", "5年前の火災の保険金の再請求の相談。事故は当時報告済み。"),
    (
        N,
        "plain",
        "sales: CO alarm pitch on phone",
        "「一酸化炭素中毒で亡くなる人が多い」と電話で言われ、警報器の購入をすすめられています。",
    ),
    (N, "plain", "fire drill", "マンションの火災訓練の日に、業者が来て消火器を売ろうとしました。"),
    (N, "line", "idiom: 燃え尽きた", "推し活で燃え尽きた…グッズの返品ってできる？"),
    (
        N,
        "plain",
        "past, reported, long rambling",
        "うちの母が3年前にこたつでやけどして入院したことがあって、その件はメーカーとも話がついていて報告も済んでいます。それとは関係なく、今回はこたつ布団の通販の返品について聞きたいんです。",
    ),
    (
        N,
        "plain",
        "hospital bill dispute",
        "骨折で入院した病院の差額ベッド代の請求に納得できません。転んだのは自宅の階段です。",
    ),
    (N, "line", "kana ins: にゅういんほけん", "にゅういんほけんのかいやくってどうやるの"),
    (N, "plain", "job: 手術室 nurse", "手術室看護師の求人に応募したら、登録料を請求されました。"),
    (
        N,
        "plain",
        "fire extinguishing product complaint",
        "通販で買った消火スプレーが届いたら中身が漏れていました。返品したいです。",
    ),
    (N, "memo", "memo: 中古車 事故歴", "購入した中古車に事故歴（修復歴）があった。説明なし。"),
    (
        N,
        "plain",
        "horror story only",
        "子どもの頃に花火でやけどしたことがあって、今でも火が怖いです。花火の販売規制はありますか。",
    ),
    (
        N,
        "plain",
        "property: burnt food only",
        "電子レンジでお弁当を温めすぎて焦がしてしまいました。レンジは無事です。",
    ),
]

# accident_v4_fresh.jsonl: 60 more rows written after the v4 rules (massage, gym, playground, food allergy,
# romaji, Kyoto dialect, more sales/hypothetical/pet negatives), labelled before the screener ran on them.
# Frozen at their first run (figure in the report); tuned on afterwards, so DEV data from then on.
FRESH: list[tuple[str, str, str, str]] = [
    (
        S,
        "plain",
        "massage/整体: fracture",
        "整体で首をひねられた後から手がしびれ、検査したら頸椎を骨折していました。",
    ),
    (
        S,
        "plain",
        "gym machine, 腱断裂, surgery",
        "ジムのマシンのケーブルが切れて、肩の腱を痛めて手術が必要と言われました。",
    ),
    (S, "memo", "memo: 遊具 転落 頭部外傷 入院", "公園遊具（ネット）破断、5歳児転落、頭部外傷で入院"),
    (S, "line", "trampoline fracture kana", "トランポリンで むすこ うで おれた、、ギプス"),
    (
        S,
        "plain",
        "food allergy shock, ICU",
        "アレルギー表示のないお菓子を食べた娘がアナフィラキシーショックを起こし、集中治療室で治療を受けました。",
    ),
    (
        S,
        "plain",
        "food foreign object swallowed, surgery",
        "パンに入っていた針金を飲み込んでしまい、内視鏡手術で取り出しました。",
    ),
    (
        S,
        "memo",
        "memo: 美容医療 壊死",
        "美容医療ヒアルロン酸注入後、鼻部皮膚壊死。形成外科で治療中、瘢痕残存の見込み",
    ),
    (S, "plain", "hair dye, 全治1か月半", "白髪染めで顔まで腫れあがり、皮膚科で全治1か月半と言われました。"),
    (S, "line", "dialect fire kyoto", "こたつから煙出て火ぃついてしもて、畳こげてんねん"),
    (S, "line", "romaji-ish fire", "mobile battery ga moeta!! heya kemuri darake"),
    (
        S,
        "plain",
        "e-cig burst, burn face, hospital stay",
        "電子タバコが口元で破裂して、顔にやけどを負い一週間入院しました。",
    ),
    (
        S,
        "plain",
        "car seat recall? no: infant death sleep product",
        "ベビー用の寝返り防止クッションで、生後4か月の娘がうつぶせになって息をしていませんでした。病院で死亡が確認されました。",
    ),
    (S, "memo", "memo: 転倒 大腿骨頸部骨折", "介護用歩行器ブレーキ不良、80代男性転倒、大腿骨頸部骨折"),
    (
        S,
        "plain",
        "pressure cooker burst, severe burn",
        "圧力鍋のふたが吹き飛んで、中身を浴びた妻が胸とおなかにひどいやけどをして、皮膚移植が必要だそうです。",
    ),
    (
        S,
        "plain",
        "e-scooter, 意識が戻らない",
        "シェアサイクルのブレーキが効かず、兄が坂道で転倒して頭を打ち、まだ意識が戻っていません。",
    ),
    (S, "line", "fire: 燃えちゃった short", "ホットカーペット燃えちゃったんだけど"),
    (S, "plain", "fire: 焼け焦げ + 炎", "炊飯器の底から炎がちらっと見えて、台所の棚が焼け焦げました。"),
    (S, "memo", "memo: 建物火災", "住宅火災。出火原因は電気ストーブと消防が判断。"),
    (
        S,
        "plain",
        "CO: 頭痛 救急, 一酸化炭素",
        "ガス給湯器をつけていたら家族全員が頭痛と吐き気を訴え、救急で一酸化炭素の血中濃度が高いと言われました。",
    ),
    (S, "line", "CO: co中毒 lowercase", "車の中でストーブつけて寝てたらco中毒なりかけて病院はこばれた"),
    (
        S,
        "plain",
        "rambling, amputation",
        "長くなってすみません、うちの父は70代で、庭の手入れが趣味なんですが、先月ホームセンターで買った電動の草刈り機を使っていたら、刃のカバーが外れて、左足の指を二本切り落としてしまいました。",
    ),
    (
        S,
        "plain",
        "30+ days: 3週間入院 + リハビリ",
        "ルームランナーから落ちて膝を強く打ち、3週間入院してリハビリ中です。",
    ),
    (S, "memo", "memo: 失明", "花火（手持ち）の火薬飛散、左眼受傷、失明"),
    (
        S,
        "plain",
        "children: magnet, 腸に穴",
        "子どもが磁石のおもちゃを飲み込んで腸に穴があき、緊急手術になりました。",
    ),
    (S, "line", "surgery: オペ", "自転車のハンドル折れて顔から落ちて、あご骨折でオペした"),
    (S, "plain", "死亡 kana-ish dialect", "電気あんかの低温やけどがもとで、じいちゃんが亡うなりました。"),
    (
        S,
        "plain",
        "lasting: 指が動かない",
        "ミキサーの刃で指の腱を切り、指が曲がらないまま治らないと言われました。",
    ),
    (
        S,
        "plain",
        "30+ days: 2か月通院",
        "エステのハイフで顔にやけどをして、2か月ほど皮膚科に通院しています。",
    ),
    (
        M,
        "plain",
        "minor: 通院3回",
        "折りたたみベッドに指を挟み、整形外科に3回通いました。骨に異常はありませんでした。",
    ),
    (M, "line", "minor: スマホ熱い やけどしかけ", "スマホ充電しながら寝てたら熱くなってて低温やけどしかけた"),
    (
        M,
        "plain",
        "minor: smoke from toaster, no flames",
        "オーブントースターから黒い煙がもくもく出ましたが、炎は見えませんでした。",
    ),
    (M, "memo", "memo: 異物混入 口内裂傷 軽症", "弁当に異物（ガラス片）混入、口内軽度裂傷、受診なし"),
    (M, "plain", "minor: rash from detergent", "洗剤で手が荒れて皮膚科で塗り薬をもらいました。"),
    (
        M,
        "line",
        "minor: 救急車 even though OK",
        "子どもがボタン電池なめちゃって救急いったけど飲んでなかった、よかった",
    ),
    (M, "plain", "minor: near miss fire", "ドライヤーの根元から火花が出て、あと少しで燃えるところでした。"),
    (
        M,
        "plain",
        "minor: food poisoning 2 days",
        "通販の生牡蠣で夫婦そろって食中毒になり、2日ほど寝込みました。",
    ),
    (M, "memo", "memo: 捻挫 全治2W", "ランニングシューズのソール剥離、転倒、右足関節捻挫全治2週"),
    (
        M,
        "plain",
        "minor: electric shock small",
        "延長コードに触ったらビリッと感電しました。けがはありません。",
    ),
    (
        M,
        "plain",
        "minor: scorch on outlet, tracking",
        "コンセントの差し込み口が黒くなって、少し溶けていました。",
    ),
    (
        N,
        "plain",
        "sales: fire ins door",
        "「火災保険を使えば自己負担ゼロで修理できる」と訪問業者に言われ、契約してしまいました。",
    ),
    (
        N,
        "plain",
        "sales: CO alarm mail",
        "一酸化炭素中毒を防ぐ警報器のダイレクトメールが毎週届いて迷惑です。",
    ),
    (N, "line", "sales: 入院保険 LINE", "入院したら日額1万って言われて入った保険、やめたい"),
    (
        N,
        "plain",
        "hypothetical question: can it catch fire",
        "モバイルバッテリーが膨らんできたのですが、発火することはありますか。",
    ),
    (
        N,
        "plain",
        "worry: elderly parent",
        "高齢の母が石油ストーブを使っているのですが、火事にならないか心配です。",
    ),
    (
        N,
        "plain",
        "news TV death",
        "テレビで電動ベッドの事故で亡くなった人のニュースを見て、うちの父のベッドも同じメーカーか心配です。",
    ),
    (
        N,
        "memo",
        "memo: 過去事故 報告済 問合せ",
        "2022年の発火事故（報告済）の件、メーカーの補償額について再相談",
    ),
    (N, "plain", "pet: dog swallowed toy", "犬用のおもちゃの部品をうちの犬が飲み込み、開腹手術をしました。"),
    (N, "line", "pet: cat died heater", "猫がヒーターの前で動かなくなってて、病院つれてったけど死んじゃった"),
    (N, "plain", "unrelated admission, billing", "入院中の父のパジャマのレンタル代が高すぎます。"),
    (
        N,
        "plain",
        "unrelated: 死亡 death certificate contract",
        "母が亡くなって、母が契約していた健康食品の定期購入を止めたいのですが、業者が応じてくれません。",
    ),
    (
        N,
        "plain",
        "idiom: 骨が折れる (hard)",
        "返金の手続きがとても骨が折れる作業で、途中であきらめそうです。",
    ),
    (N, "line", "idiom: 炎上 review", "口コミに本当のこと書いただけなのに炎上して訴えるって言われた"),
    (
        N,
        "plain",
        "fire insurance claim, old fire",
        "昨年の火事の保険金の支払いが遅いのですが、どこに相談すればいいですか。火事のことは消防にもメーカーにも報告済みです。",
    ),
    (N, "plain", "property: 水漏れ 床", "洗濯機のホースが外れて水があふれ、床がふやけました。"),
    (N, "plain", "product defect no harm", "買ったばかりの電気ケトルがすぐ壊れて電源が入りません。"),
    (
        N,
        "plain",
        "cosmetic surgery contract, no harm",
        "二重まぶたの手術を勧められて、その日のうちに契約させられました。解約したいです。",
    ),
    (N, "line", "kana: かじ insurance", "かさいほけんのけいやく、いらないのに"),
    (
        N,
        "plain",
        "car accident not product, insurance",
        "交通事故で骨折した父の保険会社とのやりとりについて相談です。相手の車の過失です。",
    ),
    (
        N,
        "plain",
        "fire drill/extinguisher expired",
        "消火器の使用期限が切れているので、処分の方法を教えてください。",
    ),
    (N, "plain", "hyperbole 死ぬほど", "このサプリ、高すぎて死ぬほど後悔しています。"),
]

# accident_v4_fresh2.jsonl: 59 more, written after the second round of rules (services: pool, ski rental,
# riding, nail salon, sauna; kana-only; idioms 手を焼く/焼け石に水/死活問題; more sales and hearsay), labelled
# before the screener ran on them; frozen at their first run, DEV data afterwards.
FRESH2: list[tuple[str, str, str, str]] = [
    (
        S,
        "memo",
        "memo: 受傷 救急外来 入院",
        "プール滑り台継ぎ目で受傷、左下腿裂創。救急外来受診後そのまま入院。",
    ),
    (
        S,
        "plain",
        "contact lens, cornea, 失明 risk -> treatment 2 months",
        "通販のカラーコンタクトで角膜に傷がつき、眼科で2か月治療が続いています。",
    ),
    (S, "line", "ski rental binding, kossetsu", "スキー場でレンタルした板の金具が外れて すねの骨折った😭"),
    (
        S,
        "plain",
        "horse riding service fall, vertebra fracture",
        "乗馬体験で鞍のベルトが切れて落馬し、腰椎圧迫骨折と診断されました。",
    ),
    (
        S,
        "plain",
        "nail salon infection, surgery",
        "ネイルサロンで甘皮を切られたところが化膿して、指を切開する手術を受けました。",
    ),
    (
        S,
        "plain",
        "hot spring/sauna? heater burn severe",
        "サウナのストーブの柵が外れていて、父が背中に触れ、深いやけどを負いました。",
    ),
    (S, "memo", "memo: 誤嚥 窒息 死亡", "高齢者施設以外。自宅で介護食ゼリー誤嚥、窒息、同日死亡"),
    (S, "line", "fire: kana only", "れんじ から ひ でた、 かべ こげた"),
    (
        S,
        "plain",
        "fire: 火が燃え移り rambling",
        "夜、子どもが寝てから台所でアロマディフューザーを使っていたんですけど、ちょっと目を離したすきに、なんか焦げ臭いなと思って見に行ったら、本体の下から火が出ていて、ふきんに燃え移っていて、慌ててぬれタオルをかぶせて消しました。",
    ),
    (
        S,
        "plain",
        "fire: 発火 electric bike, garage",
        "電動キックボードのバッテリーが夜中に発火して、車庫のシャッターが焼けました。",
    ),
    (S, "memo", "memo: 出火 焼損 no injuries", "ノートPC充電中に出火、机・床焼損、人的被害なし。"),
    (S, "line", "fire: もえてる emoji", "ヒーターもえてる🔥🔥🔥119した"),
    (
        S,
        "plain",
        "CO: 練炭 not suicide, grill indoor",
        "部屋で炭火の卓上グリルを使っていたら、家族みんなが倒れて病院に運ばれ、一酸化炭素中毒でした。",
    ),
    (
        S,
        "plain",
        "CO: hot water heater, dead",
        "古いガス風呂釜の排気不良で、一人暮らしの叔父が亡くなっているのが見つかりました。",
    ),
    (
        S,
        "plain",
        "death: amusement ride",
        "遊園地のアトラクションの安全バーが外れて、同乗していた友人ではなく私の夫が転落して亡くなりました。",
    ),
    (
        S,
        "plain",
        "fracture: child, playground",
        "公園の遊具のボルトが抜けていて、娘が落ちて鎖骨を骨折しました。",
    ),
    (S, "line", "admitted dialect", "おかんが通販の青汁のんでから黄疸でて、入院しとるんよ"),
    (
        S,
        "plain",
        "30 days: 全治四週間 kanji -> 28 days? NO use 全治五週間",
        "介護用の手すりが抜けて母が転び、全治五週間の打撲と診断されました。",
    ),
    (
        S,
        "plain",
        "後遺症 from hair straightening",
        "縮毛矯正の薬剤で頭皮がやけどして、髪が生えてこない部分が残ってしまいました。",
    ),
    (
        S,
        "plain",
        "surgery: eye injury from toy",
        "おもちゃの銃の弾が目に当たり、息子は目の手術を受けました。",
    ),
    (S, "memo", "memo: 縫合 + 全治6W", "カッター刃折損飛散、右手掌裂傷、縫合、全治6週"),
    (S, "plain", "amputation: door", "電車ではなく自宅の自動ドアに孫の指が挟まり、指先が切断されました。"),
    (
        S,
        "plain",
        "unconscious: bath seat",
        "赤ちゃん用のお風呂の浮き輪が外れて、息子がおぼれ、意識不明の状態で運ばれました。",
    ),
    (S, "line", "fracture: 骨にひび kana", "ほねにひびはいってた、ふみだい ぐらぐらで落ちた"),
    (
        S,
        "plain",
        "30+ days: 1か月以上 通院 wound",
        "電気圧力鍋の蒸気で腕をやけどして、もう1か月以上皮膚科に通っています。",
    ),
    (M, "plain", "minor: burn 1 week", "ヘアアイロンでおでこをやけどして、1週間くらいで治りました。"),
    (M, "line", "minor: sparks", "充電器さしたらバチッて火花でた、こわすぎ"),
    (M, "plain", "minor: smoke, switched off", "電気ケトルの底から煙が出たので、すぐにコードを抜きました。"),
    (M, "memo", "memo: 受診 経過観察", "歯ブラシヘッド破損、口腔内擦過傷。歯科受診、経過観察。"),
    (
        M,
        "plain",
        "minor: stomach ache",
        "お取り寄せのケーキを食べたら家族がお腹を痛くして、病院で整腸剤をもらいました。",
    ),
    (
        M,
        "plain",
        "minor: near-miss CO alarm with headache",
        "ガスストーブを使っていたら警報器が鳴って、少し頭が痛くなりましたが、換気したら治りました。",
    ),
    (M, "plain", "minor: scorching of plug", "扇風機のプラグが変色して焦げていました。"),
    (M, "line", "minor: small cut 絆創膏", "缶詰のふたで指きった、ばんそうこうでOK"),
    (
        M,
        "plain",
        "minor: 縫った 4針, 10 days",
        "ガラス製のコップが持っただけで割れて、手のひらを4針縫いました。全治10日です。",
    ),
    (
        M,
        "plain",
        "minor: near miss, nearly fell",
        "ベランダの手すりがぐらついて、もう少しで落ちるところでした。",
    ),
    (N, "plain", "idiom: 手を焼いて", "業者の対応に手を焼いています。何度電話しても返金してくれません。"),
    (N, "plain", "idiom: 焼け石に水", "少し返金されましたが、焼け石に水です。"),
    (N, "plain", "idiom: 死活問題", "この値上げは年金暮らしの私には死活問題です。"),
    (N, "line", "idiom: 首が回らない", "ローンで首がまわらない、どうしたら"),
    (N, "plain", "idiom: 火を見るより明らか", "契約書を読めば業者が悪いのは火を見るより明らかです。"),
    (N, "plain", "question about law", "事業者が重大製品事故を隠していた場合、どこに通報すればいいですか。"),
    (
        N,
        "plain",
        "sales: fire alarm battery exchange visit",
        "住宅用火災警報器の電池交換と言って来た業者に、本体ごと高い値段で交換されました。",
    ),
    (
        N,
        "plain",
        "sales: 消火器 pamphlet",
        "「火災が起きたら大変です」というパンフレットと一緒に消火器を送りつけられました。",
    ),
    (N, "line", "sales: 死亡保障", "しぼうほしょうの保険、おばあちゃんが勝手に契約させられてた"),
    (
        N,
        "plain",
        "hearsay: coworker",
        "職場の同僚が、同じモバイルバッテリーで火事になりかけたと言っていました。うちのは大丈夫でしょうか。",
    ),
    (
        N,
        "plain",
        "news recall",
        "新聞にうちの電気ストーブと同じ型が発火事故でリコールと載っていました。交換してもらえますか。",
    ),
    (
        N,
        "plain",
        "worry: grandma heater",
        "祖母が古いガスストーブを使っていて、一酸化炭素中毒にならないか心配です。",
    ),
    (
        N,
        "memo",
        "memo: 報告済 第二報なし 問合せ",
        "令和5年の発火事故（当センターで通知済）の件で、相談者から補償の進み具合の問い合わせ。",
    ),
    (
        N,
        "plain",
        "pet: dog fracture grooming",
        "トリミングサロンで犬の足を骨折させられました。治療費を払ってほしいです。",
    ),
    (N, "line", "pet: fish heater", "水槽のヒーターこわれて熱帯魚ぜんぶ死んじゃった"),
    (N, "plain", "property: car scratched", "洗車機で車に傷がつきました。けが人はいません。"),
    (
        N,
        "plain",
        "unrelated: hospital stay, insurance claim denied",
        "母が肺炎で入院した分の入院給付金が、保険会社から支払われません。",
    ),
    (
        N,
        "plain",
        "unrelated: funeral contract",
        "父が亡くなった際の葬儀の費用が、見積もりより30万円も高かったです。",
    ),
    (
        N,
        "plain",
        "unrelated surgery contract dispute",
        "美容外科で手術を受けましたが、仕上がりがイメージと違うので返金してほしいです。痛みや傷はありません。",
    ),
    (N, "plain", "product complaint: 燃費", "ハイブリッド車の燃費がカタログよりずっと悪いです。"),
    (N, "plain", "garbage: 燃えないゴミ", "壊れた電気ストーブは燃えないゴミに出していいですか。"),
    (
        N,
        "line",
        "hypothetical: 子ども誤飲したら",
        "ボタン電池むきだしのおもちゃ、子どもがのみこんだらって思うとこわい",
    ),
    (
        N,
        "plain",
        "past fire, insurance paid, reported",
        "3年前の火事の件は消防とメーカーに報告済みで、保険金も受け取りました。今日は新しく買った家具の配送の相談です。",
    ),
    (N, "plain", "game: 炎上 streamer", "配信者が炎上して、買ったグッズを返品したいです。"),
]

# accident_v4_fresh3.jsonl: 44 more, written after the third round of rules (last changes), labelled before
# the screener ran on them: the first run is the least optimistic figure this author can give.
FRESH3: list[tuple[str, str, str, str]] = [
    (
        S,
        "plain",
        "hot water bottle burst, 熱湯, 入院",
        "湯たんぽの口金がゆるんで熱湯が漏れ、寝ていた祖母が太ももにやけどを負って入院しています。",
    ),
    (S, "line", "fire: バッテリー燃えた kana", "でんどうじてんしゃのばってりー、げんかんでもえた"),
    (S, "memo", "memo: 火災 消防 焼損", "扇風機モーター部より出火、消防出動、室内一部焼損"),
    (
        S,
        "plain",
        "fire: electric blanket, spread",
        "電気毛布のコントローラーから火が出て、布団とじゅうたんまで焼けてしまいました。",
    ),
    (S, "line", "fire: ヒーター 火事 short", "パネルヒーターで火事なった、どこに言えば"),
    (
        S,
        "plain",
        "CO poisoning: generator indoors",
        "停電のときに発電機を家の中で使って、家族が一酸化炭素中毒で救急搬送されました。",
    ),
    (
        S,
        "plain",
        "fracture: wheelchair",
        "通販の車いすのブレーキが壊れていて、坂で母が転倒し、手首を骨折しました。",
    ),
    (S, "plain", "fracture: 亀裂骨折 memo-like", "脚立の脚が曲がって落ち、かかとを亀裂骨折しました。"),
    (S, "memo", "memo: 手術 tendon", "包丁柄部破損、左母指屈筋腱損傷、手術施行"),
    (
        S,
        "plain",
        "amputation: fan",
        "扇風機のカバーが外れていて、子どもの指先が羽根に当たって切断されました。",
    ),
    (
        S,
        "plain",
        "death: infant choking toy",
        "2歳の息子がおもちゃの小さな部品を飲み込んで窒息し、亡くなりました。",
    ),
    (S, "line", "unconscious: 息してない", "赤ちゃんがスリーパーのひもに首がからまって息してなかった、今ICU"),
    (S, "plain", "30+ days: 全治8週間", "電動自転車のフレームが折れて転倒し、全治8週間の大けがをしました。"),
    (
        S,
        "plain",
        "30+ days: 完治まで3か月 cosmetic",
        "医療脱毛でやけどを負い、完治まで3か月かかると言われました。",
    ),
    (
        S,
        "plain",
        "後遺症: 味覚",
        "通販のサプリを飲んでから味覚がなくなり、医師から後遺症が残る可能性が高いと言われました。",
    ),
    (S, "memo", "memo: 入院 food", "通販の総菜でO157、相談者の子（6歳）入院中"),
    (S, "plain", "surgery: implant breakage", "歯科で入れたインプラントが折れて、再手術が必要になりました。"),
    (S, "line", "admitted: にゅういん dialect", "ばあちゃん、マッサージ機で肋骨おれてにゅういんしとる"),
    (
        S,
        "plain",
        "rambling: fire in car",
        "先月買った中古の軽自動車なんですが、昨日、高速を走っていたらボンネットから煙が出てきて、路肩に止めたらすぐに火が出て、車はほとんど燃えてしまいました。家族は降りて無事でした。",
    ),
    (
        M,
        "plain",
        "minor: burn blister 10 days",
        "ホットプレートに触れて手に水ぶくれができ、10日ほどで治りました。",
    ),
    (M, "line", "minor: smoke", "こたつからけむり でた、すぐ消した"),
    (
        M,
        "plain",
        "minor: sparks no flames",
        "電子レンジの中で火花がバチバチ散りました。燃えたりはしていません。",
    ),
    (M, "memo", "memo: 軽度熱傷 外来", "ヘアドライヤー過熱、頭皮軽度熱傷、皮膚科外来1回"),
    (
        M,
        "plain",
        "minor: dizzy after supplement",
        "ダイエットサプリを飲んでから動悸がして、内科で診てもらいました。",
    ),
    (
        M,
        "plain",
        "minor: near miss stroller",
        "ベビーカーの折りたたみロックが外れて、もう少しで子どもの指を挟むところでした。",
    ),
    (M, "line", "minor: 打撲", "いすの脚おれてこけた、おしりうった、大したことない"),
    (M, "plain", "minor: scorched cable", "ゲーム機の充電ケーブルの根元が焦げて黒くなっていました。"),
    (
        N,
        "plain",
        "sales: 医療保険",
        "医療保険の営業の人に「骨折したら入院が長引く」と言われて、断れずに契約しました。",
    ),
    (
        N,
        "plain",
        "sales: fire extinguisher spray",
        "訪問してきた業者に「火事のときに役立つ」と消火スプレーを5本も買わされました。",
    ),
    (N, "line", "sales: 一酸化炭素チェッカー", "一酸化炭素チェッカーのネット広告しつこい"),
    (N, "plain", "hearsay: SNS video", "SNSで充電中のスマホが燃える動画を見て、同じ機種なので不安です。"),
    (
        N,
        "plain",
        "hypothetical: 子どもが落ちたら",
        "ベランダの柵のすき間が広く、子どもが落ちたら大けがをしそうです。改善してほしい。",
    ),
    (N, "plain", "worry question: 低温やけど", "電気あんかを一晩中つけていると低温やけどになりますか。"),
    (
        N,
        "plain",
        "already reported, follow-up",
        "先週そちらに報告した電気ストーブの火事の件で、メーカーから連絡が来たのでお知らせします。",
    ),
    (N, "plain", "pet: rabbit", "うさぎがケージの扉に足を挟んで骨折しました。ケージの作りが悪いと思います。"),
    (N, "line", "pet: dog burn", "いぬがストーブでやけどした、動物病院いった"),
    (
        N,
        "plain",
        "unrelated: 入院中 祖母 contract",
        "祖母が入院している間に、祖母宛てに健康食品が届き続けています。",
    ),
    (
        N,
        "plain",
        "unrelated: death, subscription",
        "兄が亡くなってから、兄のスマホの有料アプリの請求が止まりません。",
    ),
    (N, "plain", "idiom: 骨身にしみる", "今回の件で、契約書をよく読むことの大切さが骨身にしみました。"),
    (N, "plain", "idiom: 火がついた", "子どもの受験に火がついて、高額な教材を契約してしまいました。"),
    (N, "line", "idiom: 死ぬほど待った", "電話つながるまで死ぬほど待った"),
    (
        N,
        "plain",
        "property: fridge broken food spoiled",
        "冷蔵庫が故障して、中の食品が全部だめになりました。",
    ),
    (
        N,
        "plain",
        "contract: cosmetic surgery ad",
        "「切らない二重手術」という広告を見て申し込みましたが、高額なので解約したいです。",
    ),
    (
        N,
        "plain",
        "old accident, long ago, settled",
        "10年以上前に自転車の事故で骨折しましたが、当時メーカーと示談しています。今回は新しい自転車の保証の質問です。",
    ),
]


def split() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Per label, shuffle the rows with SEED and send ~35% of them to the frozen test split."""
    rng = random.Random(SEED)
    rows = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"v{i:03d}"}
        for i, (lab, style, why, t) in enumerate(ROWS)
    ]
    test_groups: set[str] = set()
    for label in (S, M, N):
        groups = [r["group"] for r in rows if r["label"] == label]
        rng.shuffle(groups)
        test_groups.update(groups[: round(len(groups) * 0.35)])
    return [r for r in rows if r["group"] not in test_groups], [r for r in rows if r["group"] in test_groups]


def dump(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    dev, test = split()
    fresh = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"w{i:03d}"}
        for i, (lab, style, why, t) in enumerate(FRESH)
    ]
    fresh2 = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"x{i:03d}"}
        for i, (lab, style, why, t) in enumerate(FRESH2)
    ]
    fresh3 = [
        {"text": t, "label": lab, "reason": why, "style": style, "group": f"y{i:03d}"}
        for i, (lab, style, why, t) in enumerate(FRESH3)
    ]
    dev_path, test_path = here / "accident_v4_dev.jsonl", here / "accident_v4_test.jsonl"
    fresh_path, fresh2_path = here / "accident_v4_fresh.jsonl", here / "accident_v4_fresh2.jsonl"
    fresh3_path = here / "accident_v4_fresh3.jsonl"
    frozen = ((test_path, test), (fresh_path, fresh), (fresh2_path, fresh2), (fresh3_path, fresh3))
    for path, part in frozen:
        if path.exists() and path.read_text(encoding="utf-8") != dump(part):
            print(
                f"{path} is frozen and differs from what this script generates: refusing to overwrite it",
                file=sys.stderr,
            )
            return 1
    if "--check" in argv:
        print("accident_v4_test.jsonl and accident_v4_fresh{,2,3}.jsonl match the generator")
        return 0
    test_path.write_text(dump(test), encoding="utf-8")
    fresh_path.write_text(dump(fresh), encoding="utf-8")
    fresh2_path.write_text(dump(fresh2), encoding="utf-8")
    fresh3_path.write_text(dump(fresh3), encoding="utf-8")
    dev_path.write_text(dump(dev), encoding="utf-8")
    for name, part in (
        ("dev", dev),
        ("test", test),
        ("fresh", fresh),
        ("fresh2", fresh2),
        ("fresh3", fresh3),
    ):
        counts = {lab: sum(r["label"] == lab for r in part) for lab in (S, M, N)}
        print(name, len(part), counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
