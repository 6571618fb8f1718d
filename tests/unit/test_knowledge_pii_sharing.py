"""knowledge.sharing: what crosses a center boundary is whitelisted, vocabulary-checked and masked."""

from __future__ import annotations

from dataclasses import fields

from crm.models import Contact, Ticket
from knowledge.sharing import SharedCase, shareable_case, shareable_labels, shareable_region


def test_labels_keep_vocabulary_values_and_mask_free_text() -> None:
    shared = shareable_labels(
        {
            "product_category": "健康食品",
            "sales_method": "090-1234-5678",  # not a 販売購入形態: dropped
            "content_keywords": ["定期購入", "佐藤花子さん 080.2222.3333", "", 7],
            "outcome": "佐藤様へ 〇八〇ー二二二二ー三三三三 で連絡済み",
            "notes": "山田太郎 090-1111-2222",  # not whitelisted: never copied
        }
    )
    assert shared["product_category"] == "健康食品"
    assert "sales_method" not in shared and "notes" not in shared
    assert shared["content_keywords"][0] == "定期購入"
    assert "佐藤" not in str(shared) and "3333" not in str(shared) and "三三三三" not in str(shared)
    assert shareable_labels({"outcome": "あっせん解決"}) == {"outcome": "あっせん解決"}


def test_region_is_cut_to_prefecture_and_municipality() -> None:
    assert shareable_region("大阪府大阪市北区梅田1-2-3") == "大阪府大阪市北区"
    assert shareable_region("東京都八王子市子安町4-7-1") == "東京都八王子市"
    assert shareable_region("北区梅田2の3の4") == "北区"
    assert shareable_region("佐藤花子") == ""
    assert shareable_region(None) == ""


def test_shareable_case_is_built_only_from_whitelisted_fields() -> None:
    ticket = Ticket(
        id=7,
        center_id=1,
        contact_id=1,
        channel="line",
        subject="Taro Sato 090.1234.5678",
        summary="梅田一丁目2番3号 ハイツ梅田305号室の佐藤です。株式会社ミライ健康のサプリ。",
        product_category="健康食品",
        sales_method="通信販売",
        content_keywords=["定期購入"],
        outcome="あっせん解決",
        contract_amount=9800,
    )
    contact = Contact(
        id=1, age_band="70歳以上", gender="佐藤花子", occupation="無職", region="大阪府堺市北区1-2"
    )
    case = shareable_case(ticket, contact)
    assert {f.name for f in fields(SharedCase)} == set(case.__dict__)
    assert case.gender is None and case.age_band == "70歳以上" and case.region == "大阪府堺市北区"
    text = f"{case.subject} {case.summary} {case.labels}"
    for secret in ("Taro", "Sato", "1234", "梅田一丁目", "305号室", "佐藤"):
        assert secret not in text, text
    assert "株式会社ミライ健康" in case.summary and case.contract_amount == 9800
