"""Build the PII evaluation set v2: bench/data/pii_v2_dev.jsonl and bench/data/pii_v2_test.jsonl.

Two sources, one format (the one of build_pii_set.py: {"text", "spans": [{start, end, type}], "keep"}):
- HAND: texts written by hand the way consumers type on LINE, in mail and in phone memos (⏎ = a line break);
- generated variants: templates x components (names in kanji/kana/romaji with honorifics or split by a line
  break, phones with every hyphen/dot/space and kanji or full-width digits, obfuscated mail addresses,
  addresses without 市区町村, 丁目/番地/の/- forms with buildings and rooms, era dates, cards, マイナンバー,
  bank accounts, LINE ids) embedded in consumer sentences, plus hard negatives that must survive.

Markers: ⟦type:value⟧ = personal data, ⟪value⟫ = must survive masking (business and product names, prices,
contract dates, URLs, 188, order/受付 numbers). Decision: order, member and 受付 numbers are KEPT — they
identify a transaction at a business, not a person to another center, and the PIO-NET record needs them.
Span conventions as in build_pii_set.py (name without 様/さん; address from the first place name to the
room; postal = digits after 〒).

Split: rows are shuffled with a fixed seed and cut 70/30 into dev/test. The test split is FROZEN: if
pii_v2_test.jsonl exists the script refuses to write a different one (``--check`` only verifies).
Never tune the masker on the test split. Run: .venv/bin/python bench/data/build_pii_v2.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build_pii_set import check, luhn_ok, mynumber_ok, parse

SEED = 20261201
TEST_SHARE = 0.30
N_GENERATED = 620

HAND = r"""
お世話になります。⟦name:佐藤⟧です。電話は⟦phone:090.1234.5678⟧です。
折り返しは⟦phone:〇九〇・一二三四・五六七八⟧までお願いします（母が書いたメモです）
住所は⟦address:梅田一丁目2番3号 グランドメゾン梅田305号室⟧です。
⟦address:北区梅田2の3の4⟧に住んでます
⟦birthdate:昭和25年3月4日⟧に生まれた母が契約しました。
メールは⟦email:taro.sato (at) example.com⟧にください
⟦email:hanako.sato@gmail⟧ に送ってもらえますか
名前は⟦name:Taro Sato⟧です。英語でもOK
携帯→⟦phone:090 1234 5678⟧
でんわ ⟦phone:080ー1111ー2222⟧ です
TEL:⟦phone:０９０－８８７７－６６５５⟧
⟦phone:070‐3344‐5566⟧に電話ください。夕方以降なら出られます
自宅 ⟦phone:03 3412 7788⟧ 携帯 ⟦phone:090/2222/3333⟧
番号は⟦phone:〇八〇の四四五五の六七八九⟧です
⟦phone:ゼロキューゼロ 1234 5678⟧にかけてください
電話番号 ⟦phone:０９０ １２３４ ５６７８⟧ まで
留守電に⟦phone:06.6123.4567⟧と入れておきました
⟦phone:(090)1234-5678⟧ ⟦name:山本⟧
電話：⟦phone:+81 90 1234 5678⟧（海外にいます）
⟦phone:+８１９０１２３４５６７８⟧です
携帯は⟦phone:090−１２３４−５６７８⟧、固定は⟦phone:０４２２．２２．３３４４⟧
⟦phone:080-1234-5678⟧じゃなくて⟦phone:080-1234-5679⟧でした。すみません。
→ ⟦phone:09012345678⟧ ⟦name:たなか⟧
〒⟦postal:530-0001⟧ ⟦address:梅田1-2-3 ハイツ梅田203⟧
〒⟦postal:５３００００１⟧ ⟦address:大阪市北区梅田１丁目２－３⟧
⟦address:中央区天神2の8の30⟧ ⟦name:古川⟧
住所 ⟦address:世田谷区駒沢3ー12ー5 コーポ駒沢201⟧
⟦address:駒沢三丁目十二番五号⟧のアパートです
⟦address:東京都世田谷区駒沢３丁目１２−５ 202号室⟧です
⟦address:博多駅前3丁目25-21 博多ビル5F⟧の会社に勤めています。
⟦address:久留米市東町25番地の3⟧の実家
⟦address:堺市北区中百舌鳥町5丁151番地⟧に住む父
実家は⟦address:西新六丁目1-10 レジデンス西新502⟧です
⟦address:大字上野字中原123番地⟧の農家です
⟦address:八王子市元本郷町二丁目五番八号⟧
⟦address:東京都八王子市子安町4ｰ7ｰ1⟧ サザンスカイタワー
送り先：⟦address:豊中市新千里東町1-4-2-1105⟧
⟦address:北九州市小倉北区京町3-1-1⟧の⟦name:藤本⟧です
住所は⟦address:福岡県糸島市前原西1丁目1の1⟧です。〒⟦postal:819-1117⟧
〒⟦postal:154−0012⟧　⟦address:駒沢3-12-5⟧
⟦address:梅田一丁目２番３号 305号室⟧
⟦address:名古屋市中区栄三丁目5番12号⟧に来てくださいと言われた
⟦address:札幌市中央区北1条西2丁目⟧の事務所で説明を受けた（業者の事務所ではなく私の職場です）
⟦address:京都市左京区下鴨東本町8⟧ ⟦name:北村⟧
⟦birthdate:S25.3.4⟧生まれです
生年月日 ⟦birthdate:昭和二十五年三月四日⟧
⟦birthdate:平成元年1月8日⟧生
誕生日は⟦birthdate:令和元年5月1日⟧です（孫）
⟦birthdate:1950年3月4日⟧生まれの父
⟦birthdate:1950/3/4⟧生
生年月日：⟦birthdate:S25/03/04⟧
⟦birthdate:H1.2.3⟧生まれ、独身です
誕生日→⟦birthdate:３月４日⟧です。年は⟦birthdate:昭和２５年⟧
生年月日 ⟦birthdate:R2.4.1⟧（子供）
母は⟦birthdate:昭和１０年２月３日⟧生まれで今は施設にいます
⟦birthdate:一九五〇年三月四日⟧生
私は⟦birthdate:平成15年⟧生まれの大学生です
⟦birthdate:昭和25年3月4日⟧生まれ、75歳です
生年月日は⟦birthdate:昭和25年3/4⟧
メール ⟦email:taro.sato＠example.com⟧
⟦email:taro.sato[at]example.com⟧ まで
⟦email:taro.sato アットマーク example.com⟧ です
アドレスは⟦email:taro_sato あっとまーく docomo.ne.jp⟧
⟦email:taro.sato@example . com⟧（スペース入れてます）
⟦email:ｔａｒｏ．ｓａｔｏ＠ｅｘａｍｐｌｅ．ｃｏｍ⟧
⟦email:sato-h@ezweb⟧からメールしました
⟦email:taro(at)example(dot)com⟧
連絡はメール⟦email:t.sato1975 @ yahoo.co.jp⟧で
⟦email:hanako.s@icloud⟧ です
⟦email:sato.taro ＠ softbank.ne.jp⟧
⟦email:m.tanaka at gmail dot com⟧ へお願いします
⟦name:佐藤 花子⟧様
⟦name:さとう はなこ⟧です
⟦name:サトウハナコ⟧と申します
⟦name:Hanako Sato⟧ here
⟦name:SATO Hanako⟧
⟦name:sato hanako⟧です。LINEからすみません
⟦name:佐藤⏎花子⟧です
⟦name:山田⏎太郎⟧です⏎よろしく
相談者：⟦name:鈴木⟧さん
⟦name:鈴木一郎⟧氏より電話
⟦name:渡辺⟧様宛に請求書
⟦name:高橋⟧と申しますが、先日の件で
⟦name:たかはし みつ⟧（母）
担当者の名前は⟦name:イトウ⟧さんでした
夫の⟦name:健一⟧が
⟦name:Kenji Ono⟧
⟦name:ONO KENJI⟧ 名義のカード
⟦name:ﾔﾏﾀﾞ ﾀﾛｳ⟧（半角カナ）
⟦name:中村⟧です。宜しくお願いいたします。
⟦name:小林　正男⟧（父）の件
お名前：⟦name:加藤 美由紀⟧
娘の⟦name:美咲⟧がスマホゲームで
⟦name:吉田⟧さんちの奥さんに誘われて
⟦name:松本⟧　⟦phone:090-5555-6666⟧
⟦name:井上 真理子⟧ (⟦birthdate:1975.3.9⟧)
LINE ID: ⟦line_id:taro_0304⟧
ラインID⟦line_id:hanako.s.77⟧で友だち追加してください
LINEは⟦line_id:@sato-taro⟧です
ID ⟦line_id:sakura0707⟧ で検索できます（LINE）
らいんのIDは⟦line_id:mitsu1950⟧です
カード ⟦card:5260 1815 9083 0164⟧
カード番号は⟦card:５１３１　８６０９　１３９０　９９６４⟧
⟦card:4308-2462-8194-8216⟧で決済してしまった
クレカ⟦card:3593518190937860⟧
カード番号 ⟦card:5975 4323 1948 7570⟧ の明細
マイナンバー ⟦mynumber:2366 7127 6845⟧
個人番号は⟦mynumber:２６８４６５６３２１２０⟧
マイナンバー（⟦mynumber:2330-7924-4028⟧）を伝えた
口座 普通 ⟦bank:1234 567⟧
振込先 ⟪ひまわり銀行⟫ 梅田支店 普通 ⟦bank:７６５４３２１⟧
口座番号：⟦bank:0012345⟧（普通）
⟪株式会社ナチュラルビオ⟫から電話がありました
⟪㈱ハッピーライフ⟫の定期購入
⟪（株）ライフリペア⟫の屋根工事
⟪有限会社スマイル住建⟫の担当者が来た
⟪ルミエール ブライトセラム⟫を⟪12万円⟫で買った
⟪エターナルコイン⟫に⟪300万円⟫入れた
⟪2025年3月4日⟫に契約しました
契約日は⟪令和7年3月4日⟫です。⟪8日⟫以内なのでクーリング・オフしたい
⟪平成30年⟫ごろから毎月⟪9,800円⟫引き落とし
⟪https://amaz0n-support.example.top/login⟫ を開いてしまいました
⟪188⟫に電話したらここにつながりました
注文番号 ⟪123-4567890-1234567⟫ の商品が届きません
⟪ドラゴンクエストウォーク⟫で⟪5万円⟫課金
⟪ソフトバンク⟫の店で⟪iPhone 15⟫を契約
⟪ジャパン結婚サポート⟫の入会金⟪10万円⟫
⟪トヨタ⟫の車を売った
⟪日本郵便⟫を名乗るSMS
⟪佐川急便⟫の不在通知メールが来た
⟪株式会社田中工務店⟫とリフォーム契約（⟪165万円⟫）
⟪山田電機⟫で買ったテレビ
⟪セブンイレブン⟫で⟪Apple Gift Card⟫を⟪5万円⟫分買わされた
⟪Amazon⟫のギフト券番号を聞かれた
⟪NHK⟫を名乗る訪問
⟪東京電力⟫の代理店と名乗った
⟪ゆうちょ銀行⟫に振り込んだ
⟪消費生活センター⟫に相談したいです
⟪令和6年12月⟫に解約を申し出た
見積書は⟪2,200,000円⟫、工期は⟪2週間⟫
⟪3月4日⟫に届いた請求書
⟪090⟫から始まる番号からSMSが来た
受付番号⟪C-77812⟫、⟪株式会社キレイエステ⟫
お問い合わせ番号 ⟪2026-000381⟫
⟪セーフティネット光⟫の電話勧誘
⟪モバイルWi-Fi⟫の解約金⟪1万円⟫
⟪佐藤製薬⟫の薬を通販で買った
⟪鈴木自動車⟫の中古車
⟪高橋クリニック⟫で脱毛
⟪梅田⟫の駅前で声をかけられた
⟪天神⟫の店舗で契約しました
⟪大阪⟫の業者です
⟪セブン銀行⟫のATMで振込
母（⟦birthdate:S10.2.3⟧）が⟪株式会社やすらぎ互助会⟫に加入
⟦name:佐藤⟧です。⟪株式会社佐藤商事⟫とは関係ありません
⟦name:田中⟧さんが⟪田中住建⟫の社長だと名乗った
⟦name:Taro⟧です。Amazonから⟪Prime Video⟫の請求
⟦name:Sato⟧さん宛のメール
担当：⟦name:森本⟧（⟪株式会社アーバンホーム⟫）⟦phone:090-3333-4444⟧
⟦name:ひろし⟧（夫）が⟪ウォーターサーバー⟫を契約
住所は⟦address:梅田1の2の3⟧、電話は⟦phone:06ー6123ー4567⟧、名前は⟦name:中村⟧
⟦name:中村 健二⟧
⟦address:大阪市北区梅田1-2-3-1205⟧
〒⟦postal:530 0001⟧
郵便番号⟦postal:五三〇の〇〇〇一⟧
〒⟦postal:810ー0001⟧ ⟦address:天神2-8-30⟧
⟦name:斎藤⟧です！！⟦phone:090ｰ7777ｰ8888⟧に電話ください🙏
ども、⟦name:こばやし⟧です。LINEの⟦line_id:koba_2525⟧です
⟦name:おかだ⟧ ⟦birthdate:s31.10.5⟧ ⟦phone:0８0-1234-5678⟧
差出人: ⟦name:西田 ひろみ⟧ <⟦email:hiromi.n@example.co.jp⟧>
From: ⟦name:Yuko Masuda⟧ <⟦email:yuko_masuda@example.jp⟧>
Re: 解約の件 ⟦name:増田⟧
⟦name:原田⟧より。⟪株式会社キレイエステ⟫の件で⟪360,000円⟫
電話メモ：⟦name:青木⟧様 ⟦phone:0467-22-3344⟧ ⟪188⟫経由
電話メモ）⟦name:坂本⟧さん、⟦birthdate:S18.1.1⟧生、⟦address:小倉北区京町3-1-1⟧
⟦name:Maria Santos⟧ asked about a refund from ⟪GlobalBuy Ltd⟫, phone ⟦phone:080-9999-0000⟧
⟦name:リン⟧と名乗る女性からLINE
⟦name:ワン シュウメイ⟧名義の口座
⟦name:永井 浩⟧・⟦name:千代子⟧（夫婦）
⟦name:近藤⟧様、⟦email:kondo.1960@example.ne.jp⟧
返信先: ⟦email:info.taro@example⟧
⟦email:taro.sato@example.com⟧
LINE: ⟦line_id:yuki-1999⟧ / tel ⟦phone:08033334444⟧
⟦name:菅原 大樹⟧、⟦address:西新6-1-10-502⟧
こんにちは⏎⟦name:佐々木⟧です⏎さっきの件ですが⏎電話⟦phone:090 4444 5555⟧です
住所⏎⟦address:梅田2-3-4⏎メゾン梅田101⟧
⟦name:山口⏎美咲⟧⏎⟦phone:080.2222.3333⟧
お名前 ⟦name:キムラ⟧ ⟦name:サクラ⟧⏎LINE ⟦line_id:sakura.k88⟧
メアド⏎⟦email:sakura_k (at) docomo⟧
了解です！⏎⟦name:ゆうこ⟧より
生まれは⟦birthdate:昭和４５年の１０月１日⟧です
父の生年月日は⟦birthdate:大正15年2月1日⟧でした
⟦birthdate:1950-03-04⟧生まれ
⟦birthdate:S25年3月4日⟧生
"""

# ----------------------------------------------------------------------------------------------------
# generated variants
# ----------------------------------------------------------------------------------------------------
SURNAMES = [  # kanji, hiragana, katakana, romaji
    ("佐藤", "さとう", "サトウ", "Sato"),
    ("鈴木", "すずき", "スズキ", "Suzuki"),
    ("高橋", "たかはし", "タカハシ", "Takahashi"),
    ("田中", "たなか", "タナカ", "Tanaka"),
    ("伊藤", "いとう", "イトウ", "Ito"),
    ("渡辺", "わたなべ", "ワタナベ", "Watanabe"),
    ("山本", "やまもと", "ヤマモト", "Yamamoto"),
    ("中村", "なかむら", "ナカムラ", "Nakamura"),
    ("小林", "こばやし", "コバヤシ", "Kobayashi"),
    ("加藤", "かとう", "カトウ", "Kato"),
    ("吉田", "よしだ", "ヨシダ", "Yoshida"),
    ("山田", "やまだ", "ヤマダ", "Yamada"),
    ("佐々木", "ささき", "ササキ", "Sasaki"),
    ("山口", "やまぐち", "ヤマグチ", "Yamaguchi"),
    ("松本", "まつもと", "マツモト", "Matsumoto"),
    ("井上", "いのうえ", "イノウエ", "Inoue"),
    ("木村", "きむら", "キムラ", "Kimura"),
    ("清水", "しみず", "シミズ", "Shimizu"),
    ("山崎", "やまざき", "ヤマザキ", "Yamazaki"),
    ("池田", "いけだ", "イケダ", "Ikeda"),
    ("橋本", "はしもと", "ハシモト", "Hashimoto"),
    ("阿部", "あべ", "アベ", "Abe"),
    ("石川", "いしかわ", "イシカワ", "Ishikawa"),
    ("前田", "まえだ", "マエダ", "Maeda"),
    ("藤田", "ふじた", "フジタ", "Fujita"),
    ("小川", "おがわ", "オガワ", "Ogawa"),
    ("岡田", "おかだ", "オカダ", "Okada"),
    ("後藤", "ごとう", "ゴトウ", "Goto"),
    ("長谷川", "はせがわ", "ハセガワ", "Hasegawa"),
    ("村上", "むらかみ", "ムラカミ", "Murakami"),
    ("近藤", "こんどう", "コンドウ", "Kondo"),
    ("石井", "いしい", "イシイ", "Ishii"),
    ("坂本", "さかもと", "サカモト", "Sakamoto"),
    ("遠藤", "えんどう", "エンドウ", "Endo"),
    ("青木", "あおき", "アオキ", "Aoki"),
    ("西村", "にしむら", "ニシムラ", "Nishimura"),
    ("福田", "ふくだ", "フクダ", "Fukuda"),
    ("三浦", "みうら", "ミウラ", "Miura"),
    ("藤原", "ふじわら", "フジワラ", "Fujiwara"),
    ("岡本", "おかもと", "オカモト", "Okamoto"),
    ("原田", "はらだ", "ハラダ", "Harada"),
    ("竹内", "たけうち", "タケウチ", "Takeuchi"),
    ("五十嵐", "いがらし", "イガラシ", "Igarashi"),
    ("東海林", "しょうじ", "ショウジ", "Shoji"),
    ("勅使河原", "てしがわら", "テシガワラ", "Teshigawara"),
    ("鬼頭", "きとう", "キトウ", "Kito"),
    ("比嘉", "ひが", "ヒガ", "Higa"),
    ("我那覇", "がなは", "ガナハ", "Ganaha"),
]
GIVEN = [
    ("太郎", "たろう", "タロウ", "Taro"),
    ("花子", "はなこ", "ハナコ", "Hanako"),
    ("一郎", "いちろう", "イチロウ", "Ichiro"),
    ("健太", "けんた", "ケンタ", "Kenta"),
    ("美咲", "みさき", "ミサキ", "Misaki"),
    ("翔太", "しょうた", "ショウタ", "Shota"),
    ("陽菜", "ひな", "ヒナ", "Hina"),
    ("大輔", "だいすけ", "ダイスケ", "Daisuke"),
    ("由美子", "ゆみこ", "ユミコ", "Yumiko"),
    ("和子", "かずこ", "カズコ", "Kazuko"),
    ("正男", "まさお", "マサオ", "Masao"),
    ("茂", "しげる", "シゲル", "Shigeru"),
    ("清", "きよし", "キヨシ", "Kiyoshi"),
    ("恵子", "けいこ", "ケイコ", "Keiko"),
    ("洋子", "ようこ", "ヨウコ", "Yoko"),
    ("直樹", "なおき", "ナオキ", "Naoki"),
    ("誠", "まこと", "マコト", "Makoto"),
    ("裕子", "ゆうこ", "ユウコ", "Yuko"),
    ("真理子", "まりこ", "マリコ", "Mariko"),
    ("健二", "けんじ", "ケンジ", "Kenji"),
    ("さくら", "さくら", "サクラ", "Sakura"),
    ("光男", "みつお", "ミツオ", "Mitsuo"),
    ("千代子", "ちよこ", "チヨコ", "Chiyoko"),
    ("浩", "ひろし", "ヒロシ", "Hiroshi"),
    ("彩", "あや", "アヤ", "Aya"),
    ("蓮", "れん", "レン", "Ren"),
    ("結衣", "ゆい", "ユイ", "Yui"),
    ("優斗", "ゆうと", "ユウト", "Yuto"),
]
HONORIFICS = ["様", "さん", "氏", "", "", "さま", "くん", "ちゃん"]
BUSINESSES = [
    "株式会社ナチュラルビオ",
    "㈱ハッピーライフ",
    "（株）ライフリペア",
    "有限会社スマイル住建",
    "ドリームワーク合同会社",
    "株式会社佐藤商事",
    "田中住建株式会社",
    "株式会社ジャパンエナジーネクスト",
    "㈲山本工務店",
    "株式会社キレイエステ",
    "ビューティーラボ",
    "エコライフ電力",
    "ジャパン結婚サポート",
    "株式会社アーバンホーム",
    "(株)ウォーターテック",
    "鈴木自動車",
    "高橋クリニック",
    "株式会社やすらぎ互助会",
    "一般社団法人日本健康協会",
    "株式会社中村ホーム",
]
PRODUCTS = [
    "酵素サプリ",
    "美容液「ルミエール ブライトセラム」",
    "羽毛布団",
    "浄水器",
    "ウォーターサーバー",
    "光回線",
    "モバイルWi-Fi",
    "屋根の点検",
    "給湯器",
    "脱毛コース",
    "情報商材",
    "暗号資産「エターナルコイン」",
    "iPhone 15",
    "オンラインゲーム「ドラゴンクロニクル」",
    "健康食品",
    "幸運のブレスレット",
    "床下換気扇",
    "太陽光パネル",
]
PRICES = [
    "12万円",
    "9,800円",
    "¥29,800",
    "165万円",
    "298,000円",
    "3,980円",
    "50万円",
    "2,200,000円",
    "1万2千円",
    "月額4,378円",
]
CONTRACT_DATES = [
    "2025年3月4日",
    "令和7年3月4日",
    "3月4日",
    "R7.3.4",
    "2025/3/4",
    "令和6年12月",
    "先月20日",
    "2026年1月20日",
]
URLS = [
    "https://amaz0n-support.example.top/login",
    "http://secure-jcb-card.example.cn/verify",
    "https://sagawa-delivery.example.xyz/",
    "www.example-shop.jp/item/123",
]
ORDER_NUMBERS = [
    "注文番号 ⟪123-4567890-1234567⟫",
    "受付番号⟪C-77812⟫",
    "会員番号⟪K-0045821⟫",
    "お問い合わせ番号 ⟪2026-000381⟫",
    "伝票番号⟪4567-8901-2345⟫",
]
HYPHENS = ["-", "ー", "−", "‐", "－", "ｰ", "―", ".", "・", " ", "　", "", "/", "の"]
KANJI_DIGITS = "〇一二三四五六七八九"
FW_DIGITS = "０１２３４５６７８９"
PHONE_PREFIXES = [
    ("090", 4, 4),
    ("080", 4, 4),
    ("070", 4, 4),
    ("03", 4, 4),
    ("06", 4, 4),
    ("092", 3, 4),
    ("0120", 3, 3),
    ("050", 4, 4),
    ("0467", 2, 4),
    ("042", 3, 4),
    ("011", 3, 4),
]
TOWNS = [
    "梅田",
    "天神",
    "駒沢",
    "西新",
    "元本郷町",
    "栄",
    "北沢",
    "成城",
    "姫島",
    "難波中",
    "上本町",
    "新千里東町",
    "京町",
    "博多駅前",
    "水谷",
    "長居東",
    "子安町",
    "玉川",
    "中百舌鳥町",
    "東町",
    "旭町",
    "本町",
    "桜ケ丘",
    "緑が丘",
]
CITIES = [
    "",
    "",
    "",
    "北区",
    "中央区",
    "世田谷区",
    "八王子市",
    "大阪市北区",
    "福岡市中央区",
    "堺市北区",
    "久留米市",
    "北九州市小倉北区",
    "豊中市",
    "糸島市",
    "名古屋市中区",
]
PREFS = ["", "", "", "", "東京都", "大阪府", "福岡県", "愛知県", "北海道", "京都府"]
BUILDINGS = [
    "",
    "",
    "",
    " ハイツ梅田305号室",
    " コーポ駒沢201",
    "-1205",
    " 3F",
    " メゾン天神 502",
    " グランドメゾン305号室",
    "　レジデンス西新502号室",
    " サンハイツ2階",
    "（アパート203）",
    " 101",
]
DOMAINS = [
    "example.com",
    "gmail.com",
    "gmail",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "i.softbank.jp",
    "yahoo.co.jp",
    "icloud.com",
    "outlook.jp",
    "au.com",
    "example.ne.jp",
    "docomo",
]
ATS = ["@", "＠", " (at) ", "(at)", "[at]", " アットマーク ", "あっとまーく", " at ", " @ ", "＠"]
ERAS = [("昭和", "S", 1925, 64), ("平成", "H", 1988, 31), ("令和", "R", 2018, 7), ("大正", "T", 1911, 15)]


def to_kanji(s: str) -> str:
    return "".join(KANJI_DIGITS[int(c)] if c.isdigit() else c for c in s)


def to_fw(s: str) -> str:
    return "".join(FW_DIGITS[int(c)] if c.isdigit() else c for c in s)


def digits_style(r: random.Random, s: str, kanji: bool = True) -> str:
    roll = r.random()
    return to_kanji(s) if kanji and roll < 0.15 else to_fw(s) if roll < 0.35 else s


def kanji_number(n: int) -> str:
    """Positional-word kanji numbers: 25 -> 二十五."""
    if n == 0:
        return "〇"
    out = ""
    for unit, ch in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            out += ("" if q == 1 else KANJI_DIGITS[q]) + ch
    return out + (KANJI_DIGITS[n] if n else "")


def g_name(r: random.Random) -> tuple[str, str]:
    """(marked name, honorific outside the span)."""
    sei, mei = r.choice(SURNAMES), r.choice(GIVEN)
    style = r.choice(["kanji", "kanji", "kanji", "hira", "kata", "romaji", "romaji_upper", "kata_hw"])
    idx = {"kanji": 0, "hira": 1, "kata": 2, "romaji": 3, "romaji_upper": 3, "kata_hw": 2}[style]
    a, b = sei[idx], mei[idx]
    form = r.choice(["full", "full", "space", "surname", "surname", "given", "split", "zenspace"])
    if style.startswith("romaji"):
        if style == "romaji_upper":
            a = a.upper()
        n = {
            "full": f"{b} {a}",
            "space": f"{a} {b}",
            "surname": a,
            "given": b,
            "split": f"{b}⏎{a}",
            "zenspace": f"{a.lower()} {b.lower()}",
        }[form]
    else:
        sep = {"full": "", "space": " ", "zenspace": "　", "split": "⏎"}.get(form)
        n = a if form == "surname" else b if form == "given" else f"{a}{sep}{b}"
    if style == "kata_hw":
        n = "".join(HW_KATA.get(c, c) for c in n)
    hon = r.choice(HONORIFICS) if form in ("surname", "full", "space") else r.choice(["", "さん"])
    return f"⟦name:{n}⟧", hon


HW_KATA = dict(
    zip(
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー",
        "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｰ",
        strict=True,
    )
)
HW_KATA.update(
    {
        "ガ": "ｶﾞ",
        "ギ": "ｷﾞ",
        "グ": "ｸﾞ",
        "ゴ": "ｺﾞ",
        "ダ": "ﾀﾞ",
        "ド": "ﾄﾞ",
        "ジ": "ｼﾞ",
        "ズ": "ｽﾞ",
        "ゼ": "ｾﾞ",
        "ゾ": "ｿﾞ",
        "バ": "ﾊﾞ",
        "ビ": "ﾋﾞ",
        "ブ": "ﾌﾞ",
        "ベ": "ﾍﾞ",
        "ボ": "ﾎﾞ",
        "ョ": "ｮ",
        "ュ": "ｭ",
        "ャ": "ｬ",
        "ッ": "ｯ",
        "ェ": "ｪ",
        "ィ": "ｨ",
        "ザ": "ｻﾞ",
        "デ": "ﾃﾞ",
        "ゲ": "ｹﾞ",
        "ヅ": "ﾂﾞ",
        "ヂ": "ﾁﾞ",
    }
)


def g_phone(r: random.Random) -> str:
    pre, a, b = r.choice(PHONE_PREFIXES)
    mid = "".join(r.choice("0123456789") for _ in range(a))
    end = "".join(r.choice("0123456789") for _ in range(b))
    sep = r.choice(HYPHENS)
    if r.random() < 0.08:
        raw = f"+81{sep or ' '}{pre[1:]}{sep}{mid}{sep}{end}"
    elif r.random() < 0.08:
        raw = f"({pre}){mid}{sep if sep not in ('', 'の') else '-'}{end}"
    else:
        raw = f"{pre}{sep}{mid}{sep}{end}"
    return f"⟦phone:{digits_style(r, raw)}⟧"


def g_email(r: random.Random) -> str:
    sei, mei = r.choice(SURNAMES)[3].lower(), r.choice(GIVEN)[3].lower()
    local = r.choice(
        [
            f"{mei}.{sei}",
            f"{sei}_{mei}",
            f"{mei[0]}.{sei}{r.randint(1, 99)}",
            f"{sei}{r.randint(1950, 2005)}",
            f"{mei}-{sei}",
            f"{sei}.{mei[0]}",
        ]
    )
    dom = r.choice(DOMAINS)
    if r.random() < 0.2:
        dom = dom.replace(".", r.choice([" . ", "(dot)", " dot ", "．", "ドット"]))
    e = f"{local}{r.choice(ATS)}{dom}"
    if r.random() < 0.1:
        e = e.translate(
            str.maketrans(
                "abcdefghijklmnopqrstuvwxyz.@_", "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ．＠＿"
            )
        )
    return f"⟦email:{e}⟧"


def g_chome(r: random.Random) -> str:
    a, b, c = r.randint(1, 9), r.randint(1, 30), r.randint(1, 40)
    form = r.choice(["jp", "jp", "dash", "dash", "no", "chome_dash", "banchi", "kanji", "banchi_no", "dash2"])
    sep = r.choice(["-", "ー", "−", "－", "‐", "ｰ"])
    s = {
        "jp": f"{a}丁目{b}番{c}号",
        "dash": f"{a}{sep}{b}{sep}{c}",
        "dash2": f"{a}{sep}{b}",
        "no": f"{a}の{b}の{c}",
        "chome_dash": f"{a}丁目{b}{sep}{c}",
        "banchi": f"{a}丁目{b}番地{c}",
        "kanji": f"{kanji_number(a)}丁目{kanji_number(b)}番{kanji_number(c)}号",
        "banchi_no": f"{b}番地の{c}",
    }[form]
    return s if form == "kanji" else digits_style(r, s) if r.random() < 0.5 else s


def g_address(r: random.Random) -> str:
    head = r.choice(PREFS) + r.choice(CITIES) if r.random() < 0.5 else r.choice(CITIES)
    return f"⟦address:{head}{r.choice(TOWNS)}{g_chome(r)}{r.choice(BUILDINGS)}⟧"


def g_postal(r: random.Random) -> str:
    a, b = f"{r.randint(100, 999)}", f"{r.randint(0, 9999):04d}"
    sep = r.choice(["-", "ー", "−", "－", "", " "])
    mark = r.choice(["〒", "〒", "郵便番号", "〒 ", "ゆうびん番号は"])
    return f"{mark}⟦postal:{digits_style(r, a + sep + b)}⟧"


def g_birth(r: random.Random) -> str:
    era, abbr, base, span = r.choice(ERAS)
    y, m, d = r.randint(1, span), r.randint(1, 12), r.randint(1, 28)
    sep = r.choice([".", "/", "-", "・"])
    form = r.choice(
        [
            "era",
            "era",
            "era_kanji",
            "abbr",
            "abbr_lower",
            "west",
            "west_slash",
            "era_gan",
            "era_year",
            "abbr_kanji_y",
        ]
    )
    s = {
        "era": f"{era}{y}年{m}月{d}日",
        "era_kanji": f"{era}{kanji_number(y)}年{kanji_number(m)}月{kanji_number(d)}日",
        "abbr": f"{abbr}{y}{sep}{m}{sep}{d}",
        "abbr_lower": f"{abbr.lower()}{y:02d}{sep}{m:02d}{sep}{d:02d}",
        "abbr_kanji_y": f"{abbr}{y}年{m}月{d}日",
        "west": f"{base + y}年{m}月{d}日",
        "west_slash": f"{base + y}{sep}{m}{sep}{d}",
        "era_gan": f"{era}元年{m}月{d}日",
        "era_year": f"{era}{y}年",
    }[form]
    if form not in ("era_kanji",) and r.random() < 0.25:
        s = to_fw(s)
    return f"⟦birthdate:{s}⟧"


def g_card(r: random.Random) -> str:
    while True:
        body = r.choice(["4", "5", "35"]) + "".join(r.choice("0123456789") for _ in range(14))
        body = body[:15]
        for x in "0123456789":
            if luhn_ok(body + x):
                n = body + x
                sep = r.choice([" ", "-", "", "　", " "])
                return (
                    f"⟦card:{digits_style(r, sep.join(n[i : i + 4] for i in range(0, 16, 4)), kanji=False)}⟧"
                )


def g_mynumber(r: random.Random) -> str:
    while True:
        body = "".join(r.choice("0123456789") for _ in range(11))
        for x in "0123456789":
            if mynumber_ok(body + x):
                n = body + x
                sep = r.choice([" ", "-", "", "　"])
                return f"⟦mynumber:{digits_style(r, sep.join(n[i : i + 4] for i in range(0, 12, 4)), kanji=False)}⟧"


def g_bank(r: random.Random) -> str:
    n = f"{r.randint(0, 9999999):07d}"
    if r.random() < 0.3:
        n = n[:3] + " " + n[3:]
    return f"⟦bank:{digits_style(r, n, kanji=False)}⟧"


def g_line(r: random.Random) -> str:
    sei, mei = r.choice(SURNAMES)[3].lower(), r.choice(GIVEN)[3].lower()
    return f"⟦line_id:{r.choice([f'{mei}_{r.randint(10, 9999)}', f'{sei}.{mei}', f'@{mei}-{sei}', f'{mei}{r.randint(1950, 2010)}'])}⟧"


def k(s: str) -> str:
    return f"⟪{s}⟫"


TEMPLATES = [
    lambda r, N, H: (
        f"{N}{H}です。{k(r.choice(BUSINESSES))}の{r.choice(PRODUCTS)}の件で電話しました。折り返しは{g_phone(r)}にお願いします。"
    ),
    lambda r, N, H: f"私は{N}と申します。住所は{g_postal(r)} {g_address(r)}です。",
    lambda r, N, H: f"こんにちは⏎{N}です⏎{k(r.choice(PRODUCTS))}が届きません⏎電話→{g_phone(r)}",
    lambda r, N, H: (
        f"相談者 {N}{H}（{g_birth(r)}生）。{k(r.choice(BUSINESSES))}と{k(r.choice(PRICES))}で契約。"
    ),
    lambda r, N, H: f"連絡先：{g_email(r)} まで。{N}",
    lambda r, N, H: (
        f"母の{N}（{g_birth(r)}生まれ）が{k(r.choice(CONTRACT_DATES))}に訪問業者と契約しました。住所は{g_address(r)}です。"
    ),
    lambda r, N, H: f"{k(r.choice(URLS))} というSMSが届きました。私の番号は{g_phone(r)}です。",
    lambda r, N, H: f"返金先 普通 {g_bank(r)} 名義 {N}",
    lambda r, N, H: (
        f"カード番号 {g_card(r)} を偽サイトに入力してしまいました。{k(r.choice(PRICES))}の請求です。"
    ),
    lambda r, N, H: f"LINEのIDは{g_line(r)}です。{N}{H}",
    lambda r, N, H: f"マイナンバーを聞かれて{g_mynumber(r)}と伝えてしまいました。",
    lambda r, N, H: f"{N}{H}という担当者から{k(r.choice(BUSINESSES))}の勧誘を受けました。",
    lambda r, N, H: (
        f"生年月日は{g_birth(r)}です。{k(r.choice(CONTRACT_DATES))}に{k(r.choice(PRICES))}の契約をしました。"
    ),
    lambda r, N, H: f"電話メモ）{N}{H} {g_phone(r)} {g_address(r)} {k('188')}経由",
    lambda r, N, H: f"From: {N} <{g_email(r)}>⏎件名: {k(r.choice(BUSINESSES))}の解約について",
    lambda r, N, H: f"{g_address(r)}に住んでいる{N}です。{r.choice(ORDER_NUMBERS)}の商品が届きません。",
    lambda r, N, H: (
        f"{g_birth(r)}に生まれた父（{N}）が{k(r.choice(PRICES))}の{r.choice(PRODUCTS)}を買わされた"
    ),
    lambda r, N, H: f"メアド {g_email(r)}⏎でんわ {g_phone(r)}⏎{N}",
    lambda r, N, H: f"{N}{H}、{k(r.choice(CONTRACT_DATES))}に{k(r.choice(BUSINESSES))}へ解約通知を送付済み。",
    lambda r, N, H: f"ご住所：{g_postal(r)} {g_address(r)}　お名前：{N}{H}　TEL：{g_phone(r)}",
    lambda r, N, H: (
        f"息子の{N}が{k(r.choice(PRODUCTS))}に{k(r.choice(PRICES))}課金していました。誕生日は{g_birth(r)}です。"
    ),
    lambda r, N, H: (
        f"{k(r.choice(BUSINESSES))}の担当{N}{H}（携帯 {g_phone(r)}）が来訪。見積{k(r.choice(PRICES))}。"
    ),
    lambda r, N, H: f"LINE（{g_line(r)}）で副業の勧誘。相手は{N}と名乗りました。{k(r.choice(URLS))}",
    lambda r, N, H: f"{N}{H}のメール {g_email(r)} 宛に書類を送ってください",
    lambda r, N, H: f"{k(r.choice(BUSINESSES))}　{r.choice(ORDER_NUMBERS)}　{k(r.choice(PRICES))}",
    lambda r, N, H: (
        f"{k(r.choice(CONTRACT_DATES))}に{k(r.choice(BUSINESSES))}と契約、{k(r.choice(PRICES))}を支払った。{k('188')}で紹介された。"
    ),
]


def generate(r: random.Random) -> list[str]:
    lines = []
    for _ in range(N_GENERATED):
        name, hon = g_name(r)
        lines.append(r.choice(TEMPLATES)(r, name, hon))
    return lines


def rows_from(lines: list[str], source: str) -> list[dict]:
    rows = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        row = parse(line.replace("⏎", "\n"))
        check(row)
        row["source"] = source
        rows.append(row)
    return rows


def dump(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> None:
    rows = rows_from(HAND.strip().splitlines(), "hand") + rows_from(
        generate(random.Random(SEED)), "generated"
    )
    random.Random(SEED).shuffle(rows)
    cut = round(len(rows) * (1 - TEST_SHARE))
    dev, test = rows[:cut], rows[cut:]
    here = Path(__file__).parent
    test_path, dev_path = here / "pii_v2_test.jsonl", here / "pii_v2_dev.jsonl"
    if test_path.exists() and test_path.read_text(encoding="utf-8") != dump(test):
        sys.exit(
            f"{test_path} is frozen and differs from what this script generates: refusing to overwrite it"
        )
    if "--check" in sys.argv:
        print("test split matches the generator")
        return
    test_path.write_text(dump(test), encoding="utf-8")
    dev_path.write_text(dump(dev), encoding="utf-8")
    for name, part in (("dev", dev), ("test", test)):
        n_hand = sum(r["source"] == "hand" for r in part)
        spans = sum(len(r["spans"]) for r in part)
        print(f"{name}: {len(part)} texts ({n_hand} hand-written), {spans} spans")


if __name__ == "__main__":
    main()
