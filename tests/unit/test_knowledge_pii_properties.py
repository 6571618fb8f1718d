"""Property tests for the PII masker: generated variants of each PII type, embedded in random Japanese
context, are never left visible; business and product names survive.

"Visible" means: a non-space character of the planted value lies outside every span find_pii returns
(so mask() would show it). Generators are written here, independently of bench/data/build_pii_v2.py.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.pii import find_pii, luhn_ok, mask, mynumber_ok

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONTEXT = [
    "お世話になります。", "先日の件ですが、", "定期購入の解約ができません。", "業者から電話がありました。",
    "至急連絡ください。", "よろしくお願いします。", "届いた商品が説明と違います。", "返金してほしいです。",
    "母が契約してしまいました。", "クーリング・オフしたいです。", "", "\n", "LINEで失礼します。",
]  # fmt: skip
FW = str.maketrans("0123456789", "０１２３４５６７８９")
KANJI = str.maketrans("0123456789", "〇一二三四五六七八九")
HYPHENS = ["-", "ー", "−", "‐", "－", ".", "・", " ", "　", "", "/"]
SURNAMES = [("佐藤", "サトウ", "さとう", "Sato"), ("鈴木", "スズキ", "すずき", "Suzuki"), ("高橋", "タカハシ", "たかはし", "Takahashi"),
            ("田中", "タナカ", "たなか", "Tanaka"), ("渡辺", "ワタナベ", "わたなべ", "Watanabe"), ("伊藤", "イトウ", "いとう", "Ito"),
            ("中村", "ナカムラ", "なかむら", "Nakamura"), ("小林", "コバヤシ", "こばやし", "Kobayashi"), ("加藤", "カトウ", "かとう", "Kato"),
            ("山本", "ヤマモト", "やまもと", "Yamamoto"), ("松本", "マツモト", "まつもと", "Matsumoto"), ("井上", "イノウエ", "いのうえ", "Inoue")]  # fmt: skip
GIVEN = [("太郎", "タロウ", "たろう", "Taro"), ("花子", "ハナコ", "はなこ", "Hanako"), ("健一", "ケンイチ", "けんいち", "Kenichi"),
         ("美咲", "ミサキ", "みさき", "Misaki"), ("裕子", "ユウコ", "ゆうこ", "Yuko"), ("博", "ヒロシ", "ひろし", "Hiroshi"),
         ("恵子", "ケイコ", "けいこ", "Keiko"), ("直樹", "ナオキ", "なおき", "Naoki")]  # fmt: skip
TOWNS = ["梅田", "天神", "駒沢", "栄", "北沢", "成城", "西新", "本町", "元町", "中央"]
CITIES = ["", "北区", "世田谷区", "大阪市北区", "福岡市中央区", "八王子市", "堺市北区", "名古屋市中区"]
BUSINESSES = [
    "株式会社ナチュラルビオ", "㈱ハッピーライフ", "（株）ライフリペア", "有限会社スマイル住建", "株式会社佐藤商事",
    "田中工務店", "鈴木自動車", "高橋クリニック", "山田電機", "株式会社中村ホーム", "ジャパン結婚サポート", "エコライフ電力",
]  # fmt: skip
PRODUCTS = [
    "酵素サプリ",
    "羽毛布団",
    "浄水器",
    "ウォーターサーバー",
    "光回線",
    "給湯器",
    "脱毛コース",
    "12万円",
    "9,800円",
]


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def styled(s: str, style: int) -> str:
    return s.translate(FW) if style == 1 else s.translate(KANJI) if style == 2 else s


@st.composite
def phones(draw: st.DrawFn) -> str:
    prefix, a, b = draw(
        st.sampled_from(
            [
                ("090", 4, 4),
                ("080", 4, 4),
                ("070", 4, 4),
                ("03", 4, 4),
                ("06", 4, 4),
                ("092", 3, 4),
                ("0120", 3, 3),
            ]
        )
    )
    sep = draw(st.sampled_from(HYPHENS))
    raw = f"{prefix}{sep}{draw(digits(a))}{sep}{draw(digits(b))}"
    return styled(raw, draw(st.integers(0, 2)))


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-z]{2,8}[._-]?[a-z0-9]{1,6}", fullmatch=True))
    at = draw(st.sampled_from(["@", "＠", " (at) ", "(at)", "[at]", " アットマーク ", " @ "]))
    domain = draw(
        st.sampled_from(
            ["example.com", "gmail.com", "gmail", "docomo.ne.jp", "yahoo.co.jp", "icloud", "ezweb.ne.jp"]
        )
    )
    return f"{local}{at}{domain}"


@st.composite
def addresses(draw: st.DrawFn) -> str:
    a, b, c = draw(st.integers(1, 9)), draw(st.integers(1, 40)), draw(st.integers(1, 40))
    h = draw(st.sampled_from(["-", "ー", "−", "－"]))
    block = draw(
        st.sampled_from(
            [f"{a}丁目{b}番{c}号", f"{a}{h}{b}{h}{c}", f"{a}の{b}の{c}", f"{a}丁目{b}{h}{c}", f"{b}番地の{c}"]
        )
    )
    if draw(st.booleans()):
        block = block.translate(FW)
    building = draw(
        st.sampled_from(["", " ハイツ梅田305号室", " コーポ駒沢201", "-1205", " 3F", " メゾン天神 502"])
    )
    return f"{draw(st.sampled_from(CITIES))}{draw(st.sampled_from(TOWNS))}{block}{building}"


@st.composite
def birth_dates(draw: st.DrawFn) -> tuple[str, str, str]:
    y, m, d = draw(st.integers(1, 60)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    era, abbr = draw(st.sampled_from([("昭和", "S"), ("平成", "H"), ("大正", "T")]))
    value = draw(
        st.sampled_from(
            [
                f"{era}{y}年{m}月{d}日",
                f"{abbr}{y}.{m}.{d}",
                f"{1930 + y}年{m}月{d}日",
                f"{1930 + y}/{m}/{d}",
                f"{era}元年{m}月{d}日",
            ]
        )
    )
    if draw(st.booleans()):
        value = value.translate(FW)
    before, after = draw(
        st.sampled_from(
            [
                ("生年月日は", "です"),
                ("", "生まれです"),
                ("", "に生まれた"),
                ("誕生日：", "。"),
                ("（", "生）"),
            ]
        )
    )
    return before, value, after


@st.composite
def names(draw: st.DrawFn) -> tuple[str, str, str]:
    sei, mei = draw(st.sampled_from(SURNAMES)), draw(st.sampled_from(GIVEN))
    style = draw(st.integers(0, 3))
    sep = draw(st.sampled_from(["", " ", "　", "\n"])) if style != 3 else draw(st.sampled_from([" ", "\n"]))
    value = (
        f"{mei[3]}{sep}{sei[3]}" if style == 3 and draw(st.booleans()) else f"{sei[style]}{sep}{mei[style]}"
    )
    before, after = draw(
        st.sampled_from(
            [
                ("私は", "と申します。"),
                ("", "です。"),
                ("相談者：", "様"),
                ("お名前 ", "さん"),
                ("母の", "が契約しました"),
            ]
        )
    )
    return before, value, after


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from(["4", "5", "35"])) + draw(digits(13))
    body = body[:15]
    number = next(body + x for x in "0123456789" if luhn_ok(body + x))
    sep = draw(st.sampled_from([" ", "-", ""]))
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


@st.composite
def my_numbers(draw: st.DrawFn) -> str:
    body = draw(digits(11))
    number = next(body + x for x in "0123456789" if mynumber_ok(body + x))
    return draw(st.sampled_from([" ", "-", ""])).join(number[i : i + 4] for i in range(0, 12, 4))


def assert_hidden(before: str, value: str, after: str) -> None:
    text = before + value + after
    start = len(before)
    covered = {i for s in find_pii(text) for i in range(s.start, s.end)}
    visible = [
        value[i - start]
        for i in range(start, start + len(value))
        if not text[i].isspace() and i not in covered
    ]
    assert not visible, f"{value!r} partly visible ({''.join(visible)!r}) in {mask(text)!r}"


context = st.sampled_from(CONTEXT)


@SETTINGS
@given(context, phones(), st.sampled_from(["電話は", "携帯：", "TEL ", "折り返しは", "→"]), context)
def test_phone_variants_are_never_visible(pre: str, phone: str, label: str, post: str) -> None:
    assert_hidden(pre + label, phone, "にお願いします。" + post)


@SETTINGS
@given(context, emails(), context)
def test_email_variants_are_never_visible(pre: str, email: str, post: str) -> None:
    assert_hidden(pre + "メールは", email, " までお願いします。" + post)


@SETTINGS
@given(context, addresses(), st.sampled_from(["住所は", "実家は", "送り先：", ""]), context)
def test_address_variants_are_never_visible(pre: str, address: str, label: str, post: str) -> None:
    assert_hidden(pre + label, address, "です。" + post)


@SETTINGS
@given(context, birth_dates(), context)
def test_birth_date_variants_are_never_visible(pre: str, birth: tuple[str, str, str], post: str) -> None:
    assert_hidden(pre + birth[0], birth[1], birth[2] + post)


@SETTINGS
@given(context, names(), context)
def test_name_variants_are_never_visible(pre: str, name: tuple[str, str, str], post: str) -> None:
    assert_hidden(pre + name[0], name[1], name[2] + post)


@SETTINGS
@given(context, st.sampled_from([("カード番号は", cards()), ("マイナンバー ", my_numbers())]).flatmap(
    lambda lc: st.tuples(st.just(lc[0]), lc[1])), context)  # fmt: skip
def test_card_and_my_number_variants_are_never_visible(
    pre: str, labelled: tuple[str, str], post: str
) -> None:
    assert_hidden(pre + labelled[0], labelled[1], " です。" + post)


@SETTINGS
@given(context, st.sampled_from(BUSINESSES), st.sampled_from(PRODUCTS), context)
def test_business_and_product_names_survive(pre: str, business: str, product: str, post: str) -> None:
    text = f"{pre}{business}の{product}について相談です。{post}"
    masked = mask(text)
    assert business in masked and product in masked, masked
