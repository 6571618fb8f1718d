"""Build bench/data/pii_labelled.jsonl from the hand-written, inline-marked texts below.

Markers: ⟦type:value⟧ marks personal data (type in phone|email|name|address|postal|mynumber|card|bank|
line_id|birthdate); ⟪value⟫ marks a string that masking must keep (business/product names, URLs, amounts).
Span conventions: postal = the digits after 〒 (not the 〒 sign); bank = the account number only (not the
bank/branch name or 普通/当座); line_id = the id itself; name = the name without 様/さん; address = from the
prefecture or city to the building/room. All texts and people are fictional.

Run: .venv/bin/python bench/data/build_pii_set.py  (writes pii_labelled.jsonl next to this file and checks
every span, Luhn for cards and the check digit for マイナンバー).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

TYPES = {"phone", "email", "name", "address", "postal", "mynumber", "card", "bank", "line_id", "birthdate"}
MARK = re.compile(r"⟦(\w+):([^⟧]+)⟧|⟪([^⟫]+)⟫")

SOURCE = r"""
⟦name:佐藤花子⟧です。⟪株式会社ナチュラルビオ⟫の酵素サプリの件で電話しました。折り返しは⟦phone:090-1234-5678⟧にお願いします。
私は⟦name:山田太郎⟧と申します。住所は〒⟦postal:154-0012⟧ ⟦address:東京都世田谷区駒沢三丁目12番5号 コーポ駒沢201⟧です。
携帯は⟦phone:０８０−４４５５−６７８９⟧です。平日の昼間はつながりにくいです。
相談者 ⟦name:鈴木一郎⟧様（⟦birthdate:昭和23年5月7日⟧生）。⟪ルミエールコスメ⟫の美容液「⟪ルミエール ブライトセラム⟫」定期購入。
連絡先：⟦email:hanako.sato1975@example.ne.jp⟧ まで、メールで回答をお願いします。
⟪https://amaz0n-support.example.top/login⟫ というSMSが届きました。発信元は⟦phone:08012345678⟧でした。
母の⟦name:高橋ミツ⟧（⟦birthdate:昭和10年2月3日⟧生まれ、89歳）が訪問業者と契約しました。住所は⟦address:八王子市元本郷町2丁目5番地8⟧です。
請求書に書いてあった番号は⟦phone:0120-555-018⟧のフリーダイヤルでした。（⟪株式会社ハッピーライフ通販⟫）
返金先の口座は ⟪ひまわり銀行⟫ 世田谷支店 普通 ⟦bank:1234567⟧ 名義 ⟦name:ヤマダ タロウ⟧ です。
クレジットカード番号 ⟦card:4526 0181 5908 3012⟧ を偽サイト「⟪ブランドアウトレットJP⟫」に入力してしまいました。
LINEのIDは⟦line_id:hanako_0707⟧です。LINEで連絡ください。
マイナンバーを聞かれて⟦mynumber:385280841489⟧と伝えてしまいました。市役所の職員を名乗っていました。
⟦name:田中⟧さんという担当者から⟪ジャパンエナジーネクスト⟫の電気の切替を勧められました。
妻の⟦name:伊藤由美子⟧が電話に出ました。自宅は⟦phone:03-3412-7788⟧です。
〒⟦postal:5300001⟧ ⟦address:大阪市北区梅田1-2-3-1205⟧ ⟦name:中村健二⟧
生年月日は⟦birthdate:1987年11月23日⟧です。大学生の息子のことで相談です。
電話番号は⟦phone:０９０１２３４５６７８⟧です（ハイフンなし）。
⟪株式会社やすらぎ互助会⟫の解約手数料について。会員番号は⟪K-0045821⟫です。契約者は父の⟦name:小林正男⟧です。
⟦name:木村さくら⟧さんから、LINE ID「⟦line_id:sakura.k88⟧」で相談が入りました。
カード（⟦card:5147-1049-7465-0759⟧）から毎月9,980円が引き落とされています。⟪ビューティーラボ⟫です。
私の住所：⟦address:福岡県福岡市中央区天神二丁目8番30号⟧、電話：⟦phone:092-711-2345⟧、氏名：⟦name:古川 誠⟧
〒⟦postal:８１２−００１１⟧ ⟦address:福岡市博多区博多駅前３丁目２５番２１号⟧
本人確認で⟦birthdate:平成15年4月1日⟧生と言いました。マッチングアプリで知り合った人の紹介です。
業者の担当者は「⟦name:ササキ⟧」と名乗り、携帯⟦phone:070-9876-5432⟧から電話してきました。⟪株式会社ライフリペア⟫の名刺でした。
振込先は⟪みらいネット銀行⟫ 本店営業部 普通預金 口座番号⟦bank:7654321⟧ 名義人 ⟦name:スズキ ケンタ⟧（個人名）でした。
⟦email:k-tanaka@example.com⟧ から「至急ご確認ください」というメールが来ました。URLは⟪http://secure-jcb-card.example.cn/verify⟫。
マイナンバー ⟦mynumber:5253 8885 3935⟧ の記載された通知カードのコピーを送ってしまった。
⟦name:渡辺⟧です。先ほどの件、⟦phone:06-6123-4567⟧まで折り返しお願いします。
父（⟦name:松本 茂⟧、⟦birthdate:S14.8.15⟧生）が⟪有限会社スマイル住建⟫と屋根工事契約（⟪165万円⟫）。
問い合わせ先として表示されていたのは⟦phone:050-3188-7766⟧（⟪トラブル解決センター⟫）ですが、つながりません。
⟦name:ジョン・スミス⟧さん（英語対応希望）、email ⟦email:john.smith.tokyo@example.org⟧、電話 ⟦phone:+81-90-5555-0123⟧。
"相談者：⟦name:井上 真理子⟧（⟦birthdate:1975/03/09⟧）、住所：⟦address:大阪府堺市北区中百舌鳥町5-151⟧"
家の電話は（⟦phone:０３−５４３２−１０９８⟧）です。留守電に入れてください。
カード番号は⟦card:３５２２３３０７９２４４０２６９⟧です（全角で書きました）。
〒⟦postal:192-0083⟧ ⟦address:東京都八王子市旭町9番1号 八王子ハイツ3階⟧ ⟦name:吉村 和夫⟧ 様
⟪消費者ホットライン188⟫にかけたら、こちらのセンターを案内されました。⟦name:石井⟧と申します。
私の⟪LINE⟫は ⟦line_id:@taro-ishii⟧ で検索できます。
請求元は⟪株式会社グローバルシステム⟫、請求額は⟪298,000円⟫、支払期限は⟪2025年2月18日⟫と書かれていました。
振込は ⟪さくら信用金庫⟫ 本店 普通 ⟦bank:0012345⟧ に。名義は会社名ではなく個人名の ⟦name:タナカ ユウキ⟧ でした。
⟦name:小川⟧様のご長男からのお電話。⟦name:小川 和子⟧様（⟦birthdate:昭和8年⟧生）が布団を購入。
メール：⟦email:ogawa.kazu@example.jp⟧　携帯：⟦phone:090-2468-1357⟧
当方の担当は⟦name:中島⟧です。⟪株式会社フューチャーテック⟫宛てに解約通知を送付済み（⟪2025年6月3日⟫、特定記録郵便）。
住所は⟦address:世田谷区北沢2-14-7-305⟧、郵便番号は⟦postal:155-0031⟧です。
電話（⟦phone:080 1357 2468⟧）にショートメッセージを送ってください。
⟦name:森田 翔太⟧（⟦birthdate:2008年7月14日⟧生、高校生）の母です。オンラインゲーム「⟪ドラゴンクロニクル・ファンタジア⟫」への課金の件。
被害者：⟦name:藤本 光子⟧ 77歳 ⟦address:福岡県北九州市小倉北区京町三丁目1番1号⟧ 電話⟦phone:093-521-0000⟧
⟦name:前田⟧さんから聞いた⟪エターナルコイン⟫という暗号資産に⟪300万円⟫を入れました。
⟪アプリ「CryptoWinPro」⟫の担当者のLINEは⟦line_id:win_pro_support2024⟧でした。
⟪株式会社クリーンサービス関西⟫に不用品回収を依頼、⟪168,000円⟫を請求されました。私の連絡先は⟦phone:072-245-6789⟧です。
⟦name:長谷川 優⟧　⟦email:yu.hasegawa@example.co.jp⟧　⟦phone:03-6789-0123⟧（勤務先）
ご住所：〒⟦postal:813-0041⟧ ⟦address:福岡市東区水谷1丁目20番15号⟧
本人（⟦name:岡本 恵⟧、⟦birthdate:平成2年12月25日⟧生）はLINEで相談。IDは⟦line_id:megu1225⟧。
偽の宅配SMSのURLは⟪https://sagawa-delivery.example.xyz/⟫でした。私の番号⟦phone:090-8765-4321⟧に来ました。
マイナンバーカードの番号（⟦mynumber:３６３３８７５００４７８⟧）を電話で言ってしまいました。
⟦name:原田⟧と申します。⟪株式会社キレイエステ⟫の脱毛コース⟪360,000円⟫の解約についてです。
カード：⟦card:4661318609139090⟧（VISA）、有効期限も入力しました。
⟪ジャパン結婚サポート⟫の入会金⟪100,000円⟫。相談者 ⟦name:西村 直樹⟧ ⟦phone:092-555-1234⟧
〒⟦postal:158-0094⟧ ⟦address:東京都世田谷区玉川一丁目14番1号⟧ ⟦name:山口 美咲⟧ 宛に書類が届きました。
連絡は⟦email:misaki.y@example.ne.jp⟧かLINE（ID：⟦line_id:misaki_yama⟧）でお願いします。
折り返し先　⟦phone:06−6943−1111⟧（⟦name:福田⟧）
⟦name:中川 清⟧様 ⟦birthdate:昭和二十五年六月一日⟧生 無職 独居
振込先：⟪ゆうちょ銀行⟫ 記号⟦bank:12345-67890123⟧ ⟦name:サトウ ミキ⟧
⟪188⟫から転送された電話。相談者は⟦name:青木⟧さん、電話番号は⟦phone:0467-22-3344⟧。
⟦name:村上 洋子⟧です。家の住所は⟦address:大阪市西淀川区姫島4丁目3番22号⟧で、郵便番号が⟦postal:555-0033⟧です。
「⟪お客様サポートセンター⟫（⟦phone:0570-012-345⟧）」に電話するよう書かれていました。
息子の⟦name:健太⟧が友達の⟦name:大輔⟧くんに誘われてマルチに入ったようです。
カード番号⟦card:5291 7034 2366 7126⟧の利用明細に覚えのない⟪89,000円⟫の請求。
⟦name:池田 俊介⟧　生年月日：⟦birthdate:1990年1月5日⟧　メール：⟦email:shun.ikeda90@example.com⟧
⟪株式会社アーバンホーム⟫の担当 ⟦name:森本⟧氏（携帯 ⟦phone:090-3333-4444⟧）が来訪。
⟦name:斎藤⟧さん、先日のご相談の件で⟦phone:０９０−７７７７−８８８８⟧にお電話しましたが不在でした。
相談者（⟦name:坂本 洋一⟧ 様）より、⟪エコライフ電力⟫の契約書面の写しをFAX（⟦phone:03-3411-9999⟧）で受領。
⟦address:東京都八王子市子安町4-7-1 サザンスカイタワー八王子 15階⟧に住んでいます。
郵便番号は〒⟦postal:8100001⟧、いや⟦postal:810-0011⟧だったかもしれません。
⟪ハッピーリフォーム株式会社⟫ 見積書No.⟪2025-0612⟫ 金額⟪2,200,000円⟫ 顧客 ⟦name:大野 勝⟧ 様
私のLINEアカウント（⟦line_id:k.nishida_1970⟧）に投資グループの招待が来ました。
相談者 ⟦name:遠藤美穂⟧（30代） 電話⟦phone:09011112222⟧ 勤務先 ⟪株式会社オオサカフーズ⟫
マイナンバー（個人番号）：⟦mynumber:439575513133⟧、ご本人確認書類として提出済み。
⟦name:橋本⟧様へ　解約受付番号⟪C-77812⟫を発行しました。⟪ビューティーウェル⟫カスタマーサポート
住所：⟦address:大阪府大阪市住吉区長居東4丁目2番地⟧ 氏名：⟦name:石田 ゆかり⟧ 電話：⟦phone:06-6691-2222⟧
⟪ドリームワーク合同会社⟫の副業マニュアル⟪29,800円⟫。連絡は⟦email:dreamwork.info@example.biz⟧からでした。
⟦name:岡田 稔⟧（⟦birthdate:昭和31年10月⟧生まれ）です。年金暮らしです。
口座番号は普通⟦bank:９８７６５４３⟧です（⟪フクオカ中央銀行⟫ 天神支店）。
⟦name:三浦⟧さんの携帯 ⟦phone:080-5050-6060⟧、ご自宅 ⟦phone:042-623-4567⟧。
⟪https://www.line-invest.example.net/room/8842⟫ に誘導されました。担当 ⟦name:リン⟧ アシスタント。
〒⟦postal:157-0066⟧ ⟦address:東京都世田谷区成城八丁目3番2号⟧の⟦name:竹内 沙織⟧です。
相談者：⟦name:安藤 洋平⟧　連絡先：⟦phone:092(711)1234⟧
妻は⟦name:恵子⟧、私は⟦name:光男⟧です。二人とも70代です。
⟪株式会社ウォーターテック⟫がトイレ修理で⟪165,000円⟫請求。カード⟦card:4960-3082-4628-1940⟧で払った。
息子の誕生日は⟦birthdate:平成20年3月3日⟧です。ゲームで⟪32万円⟫課金していました。
メールアドレス：⟦email:toshi_k@example.ne.jp⟧（携帯メール）
通話記録：⟦phone:0120-123-456⟧から着信（⟪株式会社ネクストコール⟫を名乗る）
⟦name:菅原 大樹⟧（学生）、⟦address:福岡県福岡市早良区西新六丁目1番10号 レジデンス西新502号室⟧
⟦name:上田 美香⟧さんのLINE ID ⟦line_id:mika.ueda⟧ 宛にメッセージを送信しました。
⟪カスタマーセンター⟫（⟦phone:0120-987-654⟧）に電話したが、⟦name:井上⟧という男性が出て高圧的だった。
〒⟦postal:543-0001⟧ ⟦address:大阪市天王寺区上本町6丁目3番31号⟧
カード裏面のセキュリティコードまで聞かれました。カード番号は⟦card:3585995289078667⟧です。
私は⟦name:ナカムラ ヨシコ⟧です。電話は⟦phone:090‐1111‐3333⟧（全角ハイフン）。
⟦name:野村 大介⟧　⟦birthdate:1965.09.30⟧生　自営業　⟦phone:093-541-7777⟧
ご長女 ⟦name:林 由美⟧ 様（⟦phone:080-2222-3333⟧）より、母 ⟦name:林 トシ⟧ 様の件でご相談。
担当相談員：⟦name:小野寺⟧。事業者⟪株式会社スマートホームズ⟫へあっせん。
被害金の振込先：⟪東和銀行⟫ 新宿支店 普通 ⟦bank:3344556⟧ ⟦name:ワン シュウメイ⟧
⟦email:info@nise-shop.example.store⟧から「発送しました」とメールが届きましたが、追跡番号⟪1234-5678-9012⟫は存在しないそうです。
⟦name:Maria Santos⟧ (⟦email:maria.santos@example.com⟧) asked in English about a refund from ⟪GlobalBuy Ltd⟫.
⟦name:松田⟧です。マイナンバーは ⟦mynumber:7353-7990-7512⟧ です、と言ってしまいました。
住所 ⟦address:大阪府豊中市新千里東町1-4-2⟧ の ⟦name:千葉 亮⟧ です。
生年月日は⟦birthdate:１９５２年２月１０日⟧、電話番号は⟦phone:０６−６２３４−５６７８⟧です。
⟪株式会社エムアンドケイ⟫の訪問購入で金の指輪を⟪30,000円⟫で売りました。⟦name:大塚 澄子⟧（80代）
⟦name:近藤⟧さん（⟦phone:03-5555-0001⟧）から、⟪東京都消費生活総合センター⟫に紹介されたと電話。
LINE（⟦line_id:yuki-1999⟧）で⟪SNS副業⟫の勧誘を受けました。相手は⟦name:ユウキ⟧と名乗りました。
私、⟦name:平野⟧って言います。番号は⟦phone:08033334444⟧。ショートメールも見られます。
⟪楽天⟫でも⟪Amazon⟫でもない、⟪ShopStar⟫というサイトで買いました。届かないです。
〒⟦postal:１９３−０８３５⟧ ⟦address:東京都八王子市千人町２丁目１７番１６号⟧ ⟦name:丸山 博⟧
カード番号 ⟦card:379624595711771⟧（⟪アメックス⟫）で⟪120,000円⟫の二重請求。
⟦name:増田 裕子⟧（⟦birthdate:H5.6.18⟧） ⟦email:yuko_masuda@example.jp⟧
担当の⟦name:吉田⟧から⟦name:久保⟧様へ：クーリング・オフの通知はがきの写しを⟪2026年1月20日⟫に受け取りました。
⟪医療脱毛クリニック ルーチェ⟫ 閉院のお知らせ。患者番号⟪P-003391⟫ ⟦name:新井 彩⟧ 様
実家の住所は⟦address:福岡県久留米市東町25番地の3⟧、母の携帯は⟦phone:090-6543-2109⟧です。
⟦phone:0570-064-370⟧（消費者ホットライン）にかけましたがつながりませんでした。私の番号は⟦phone:080-9999-0000⟧です。
口座は当座⟦bank:2468024⟧です（⟪北九州みなと銀行⟫ 小倉支店）。
⟦name:永井 浩⟧と⟦name:永井 千代子⟧（夫婦）から連名で申出。
相手の暗号資産ウォレットは⟪0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE⟫でした。私のメールは⟦email:nagai.h@example.com⟧。
⟦name:田村⟧です、⟦phone:092-844-5566⟧。夜は⟦phone:090-4321-8765⟧へ。
娘（⟦name:ひなた⟧、⟦birthdate:2013年9月9日⟧生まれ）がタブレットで課金しました。
⟪ジャパンネット光⟫の勧誘員 ⟦name:高木⟧ 氏。訪問日 ⟪2025年9月30日⟫。
⟦address:大阪市浪速区難波中2丁目10番70号⟧　⟦name:西田 ひろみ⟧　⟦phone:06-6644-0000⟧
⟦name:宮本⟧様 ご相談受付番号 ⟪2026-000381⟫
〒⟦postal:811-1302⟧ ⟦address:福岡市南区井尻3-8-12⟧ ⟦name:坂井 孝⟧ TEL⟦phone:092-581-2222⟧ FAX⟦phone:092-581-2223⟧
カード番号は ⟦card:4821 9935 1819 0934⟧、名義は⟦name:KENJI ONO⟧です。
マイナンバー通知カード　個人番号 ⟦mynumber:163726516762⟧　氏名 ⟦name:小野 健二⟧　生年月日 ⟦birthdate:昭和52年4月4日⟧
"""


def parse(line: str) -> dict:
    """Turn one marked line into {"text", "spans", "keep"}."""
    text, spans, keep, pos = [], [], [], 0
    for m in MARK.finditer(line):
        text.append(line[pos : m.start()])
        start = sum(len(t) for t in text)
        if m.group(1):
            kind, value = m.group(1), m.group(2)
            if kind not in TYPES:
                raise ValueError(f"unknown type {kind!r} in {line!r}")
            spans.append({"start": start, "end": start + len(value), "type": kind})
            text.append(value)
        else:
            keep.append(m.group(3))
            text.append(m.group(3))
        pos = m.end()
    text.append(line[pos:])
    return {"text": "".join(text), "spans": spans, "keep": keep}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def mynumber_ok(digits: str) -> bool:
    body, check = [int(c) for c in digits[:11]], int(digits[11])
    s = sum(body[11 - n] * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = s % 11
    return check == (0 if r <= 1 else 11 - r)


def check(row: dict) -> None:
    text = row["text"]
    assert "⟦" not in text and "⟪" not in text, text
    for sp in row["spans"]:
        value = text[sp["start"] : sp["end"]]
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
        if sp["type"] == "card":
            assert luhn_ok(digits), value
        if sp["type"] == "mynumber":
            assert len(digits) == 12 and mynumber_ok(digits), value
    for k in row["keep"]:
        assert k in text, k


def main() -> None:
    rows = []
    for raw in SOURCE.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("※"):
            continue
        if line.startswith('"') and line.endswith('"'):
            line = line[1:-1]
        row = parse(line)
        check(row)
        rows.append(row)
    out = Path(__file__).with_name("pii_labelled.jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_spans = sum(len(r["spans"]) for r in rows)
    print(f"{len(rows)} texts, {n_spans} spans -> {out}")


if __name__ == "__main__":
    main()
