"""PII context rules (knowledge.pii_rules) on examples written for these tests, and what must
survive masking (business names, products, URLs, 188, order numbers)."""

from __future__ import annotations

import pytest

from knowledge.pii import find_pii, mask


@pytest.mark.parametrize(
    ("text", "leak", "kind"),
    [
        ("LINE ID: hana_k77 に連絡ください", "hana_k77", "line_id"),
        ("ラインのIDは tomo.s2020 です", "tomo.s2020", "line_id"),
        ("業者のLINEは @shinji-77 でした", "shinji-77", "line_id"),
        ("LINE（アカウント：kazu_0815）を教えてしまった", "kazu_0815", "line_id"),
        ("LINEで友だち追加した。相手のIDはinvest_boss9", "invest_boss9", "line_id"),
        ("平成3年11月20日生まれの長女", "11月20日", "birthdate"),
        ("父は昭和十年五月三日生", "五月三日", "birthdate"),
        ("1968/7/14生の契約者", "1968/7/14", "birthdate"),
        ("昭和22年生まれ、独り暮らし", "昭和22年", "birthdate"),
        ("誕生日：S52.8.30", "S52.8.30", "birthdate"),
        ("相談者 西村 和也（1980/12/01）から", "1980/12/01", "birthdate"),
        ("普通預金 口座番号 7788990 に振り込んだ", "7788990", "bank"),
        ("ゆうちょ銀行 記号 13570-24681357", "24681357", "bank"),
        ("三つ葉銀行 梅田支店 普通 4455667 ヤマモト タロウ", "ヤマモト", "name"),
        ("口座名義 タナカ ミドリ", "ミドリ", "name"),
        ("カードの名義はHIROSHI SATO", "HIROSHI", "name"),
        ("私は栄作です。年金で暮らしています", "栄作", "name"),
        ("夫は敏行、妻は私です", "敏行", "name"),
        ("息子（はると、中学生）が課金した", "はると", "name"),
        ("娘（さくら、8歳）がゲームで課金", "さくら", "name"),
        ("孫（みなと、令和2年生まれ）の学資保険", "みなと", "name"),
        ("あの、森下っていいます。先週の件で", "森下", "name"),
        ("よろしくお願いします。\n松本より", "松本", "name"),
        ("担当の前川様に伝えてください", "前川", "name"),
    ],
)
def test_context_rules_mask_personal_data(text: str, leak: str, kind: str) -> None:
    masked = mask(text)
    assert leak not in masked, masked
    assert any(s.type == kind for s in find_pii(text)), find_pii(text)


@pytest.mark.parametrize(
    ("text", "keep"),
    [
        ("株式会社ミライ健康と申します。定期便のご案内です", "株式会社ミライ健康"),
        ("商品名は「スリムビューティーEX」", "スリムビューティーEX"),
        (
            "サイト https://kenko-mirai.example.com/lp?id=19700302 で注文",
            "https://kenko-mirai.example.com/lp?id=19700302",
        ),
        ("困ったら消費者ホットライン188へ", "188"),
        ("注文番号 2024051712345678 の件", "2024051712345678"),
        ("令和5年4月1日に契約した", "令和5年4月1日"),
        ("LINEで連絡が来た", "LINEで連絡が来た"),
        ("LINE Payで支払った", "LINE Pay"),
        ("私は会社員です", "会社員"),
        ("母は一人暮らしです", "一人暮らし"),
        ("娘（会社員、30歳）が契約した", "会社員"),
        ("母（一人暮らし、82歳）宅に業者が来た", "一人暮らし"),
        ("生活費が足りない", "生活費"),
        ("ミライ通販より", "ミライ通販より"),
    ],
)
def test_business_products_urls_and_ordinary_words_survive(text: str, keep: str) -> None:
    assert keep in mask(text), mask(text)
