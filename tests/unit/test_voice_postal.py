"""郵便番号 → 市区町村 → center with the bundled Japan Post data (no network), on the demo centers.

The expected centers were written from the demo data's descriptions (世田谷区, 八王子市, 大阪市 and
福岡市 have municipal centers; the rest of 東京都 / 大阪府 / 福岡県 go to the prefectural center) before
running the lookup.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from channels.voice.postal import center_for_postal, lookup_postal, normalize_digits

CENTERS = [
    SimpleNamespace(**{"municipalities": [], **row})
    for row in json.loads((Path(__file__).parents[2] / "crm/demo_data/centers.json").read_text("utf-8"))
]


@pytest.mark.parametrize(
    ("digits", "center"),
    [
        ("1540001", "tokyo-setagaya"),  # 世田谷区池尻
        ("1580094", "tokyo-setagaya"),  # 世田谷区玉川
        ("1920001", "tokyo-hachioji"),  # 八王子市戸吹町
        ("1000001", "tokyo"),  # 千代田区千代田: no municipal center in the demo
        ("1600022", "tokyo"),  # 新宿区新宿
        ("5300001", "osaka-city"),  # 大阪市北区梅田: a ward of the 政令市
        ("5900078", "osaka"),  # 堺市堺区: another city of 大阪府
        ("8100001", "fukuoka-city"),  # 福岡市中央区天神
        ("8020001", "fukuoka"),  # 北九州市小倉北区
        ("１５４－０００１", "tokyo-setagaya"),  # full-width digits with a long hyphen
        ("154-0001", "tokyo-setagaya"),
    ],
)
def test_a_postal_code_reaches_the_center_of_its_area(digits: str, center: str) -> None:
    match = center_for_postal(digits, CENTERS)
    assert match.center is not None, match.reason
    assert match.center.code == center


@pytest.mark.parametrize("digits", ["0000000", "1234567", "9999999"])
def test_a_code_japan_post_does_not_know_has_no_center(digits: str) -> None:
    match = center_for_postal(digits, CENTERS)
    assert match.center is None and match.area is None
    assert "does not exist" in match.reason


@pytest.mark.parametrize("digits", ["", "154", "15400012", "abcdefg", "03-1234", "*", "#"])
def test_anything_but_seven_digits_is_refused_with_the_reason(digits: str) -> None:
    match = center_for_postal(digits, CENTERS)
    assert match.center is None
    assert "not 7 digits" in match.reason


def test_an_area_without_any_center_is_named_but_not_routed() -> None:
    match = center_for_postal("9000001", CENTERS)  # 那覇市: no Okinawa center in the demo
    assert match.center is None
    assert match.area is not None and match.area.prefecture == "沖縄県"


def test_the_data_is_local_and_names_the_municipality() -> None:
    area = lookup_postal("1540001")
    assert area is not None and (area.prefecture, area.municipality) == ("東京都", "世田谷区")
    assert normalize_digits("１２３") == "123"
