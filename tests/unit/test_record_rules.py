"""The record's rules (crm/record_rules.py + crm/data/record_rules.json): each rule fires on what it
names, messages name the field, and a broken rules file fails at load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crm.record_rules import RULES_PATH, blocking, check_values, date_range, load_rules, validate_record

CLEAN: dict[str, Any] = {
    "summary": "自宅に来た業者と屋根工事を契約した。クーリング・オフの方法を助言。",
    "product_category": "屋根工事",
    "sales_method": "訪問販売",
    "content_keywords": ["点検商法"],
    "contract_amount": 850_000,
    "paid_amount": 100_000,
    "contract_date": "2026-10-15",
    "outcome": "助言(自主交渉)",
}
CONTEXT = {"received_on": "2026-11-12", "accident_notified": False, "personal": {"full_name": "佐藤一郎"}}


def rules_of(values: dict[str, Any], **kw: Any) -> set[str]:
    return {v.rule for v in blocking(validate_record(values, context={**CONTEXT, **kw}))}


def test_a_clean_record_passes() -> None:
    assert rules_of(CLEAN) == set()


def test_paid_more_than_the_contract_is_caught_naming_both_amounts() -> None:
    found = validate_record({**CLEAN, "paid_amount": 1_000_000}, context=CONTEXT)
    bad = [v for v in found if v.rule == "paid_le_contract"]
    assert bad and bad[0].field == "paid_amount"
    assert (
        "既支払額" in bad[0].message and "契約購入金額" in bad[0].message and "1,000,000円" in bad[0].message
    )


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"payment_date": "2026-10-01"}, "contract_before_payment"),
        ({"payment_date": "2026-09"}, "contract_before_payment"),  # a whole month before the contract day
        ({"contract_date": "2026-11-20"}, "no_date_after_reception"),
        ({"contract_date": None}, "visit_sale_contract_date"),
        ({"sales_method": "電話勧誘販売", "contract_date": None}, "visit_sale_contract_date"),
        ({"serious_accident": True}, "serious_has_notification"),
        ({"summary": "佐藤一郎さんから相談"}, "personal_data"),
        ({"summary": "連絡先は090-1234-5678"}, "personal_data"),
        ({"summary": "mail: a.b@example.jp"}, "personal_data"),
        ({"outcome": None}, "required"),
    ],
)
def test_each_planted_inconsistency_is_caught(change: dict[str, Any], rule: str) -> None:
    values = {k: v for k, v in {**CLEAN, **change}.items() if v is not None}
    assert rule in rules_of(values)


def test_same_month_dates_are_not_out_of_order_and_a_notified_accident_is_fine() -> None:
    assert rules_of({**CLEAN, "contract_date": "2026-10", "payment_date": "2026-10-02"}) == set()
    assert rules_of({**CLEAN, "serious_accident": True}, accident_notified=True) == set()


def test_a_draft_needs_nothing_but_valid_values() -> None:
    assert blocking(validate_record({"contract_amount": 5}, status="draft", context=CONTEXT)) == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sales_method": "押し売り"}, "sales_method"),
        ({"contract_amount": "12万円"}, "contract_amount"),
        ({"contract_amount": -1}, "contract_amount"),
        ({"contract_amount": True}, "contract_amount"),
        ({"contract_amount": 10**15}, "contract_amount"),
        ({"contract_date": "2026-02-30"}, "contract_date"),
        ({"contract_date": "昨日"}, "contract_date"),
        ({"content_keywords": ["点検商法", "点検商法"]}, "content_keywords"),
        ({"content_keywords": "点検商法"}, "content_keywords"),
        ({"document_received": "yes"}, "document_received"),
        ({"summary": "a" * 5000}, "summary"),
        ({"summary": "壊れ\ud800"}, "summary"),
        ({"nickname": "x"}, "nickname"),
    ],
)
def test_values_that_must_never_be_stored_are_named(values: dict[str, Any], field: str) -> None:
    found = check_values(values)
    assert [v.field for v in found] == [field] and found[0].severity == "invalid"
    label = load_rules().label(field)
    assert label in found[0].message or field in found[0].message


def test_month_precision_dates_cover_the_whole_month() -> None:
    first, last = date_range("2024-02")  # type: ignore[misc]
    assert (first.isoformat(), last.isoformat()) == ("2024-02-01", "2024-02-29")
    assert date_range("2024-13") is None and date_range("garbage") is None


def test_a_rules_file_naming_an_unknown_field_fails_at_load(tmp_path: Path) -> None:
    raw = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    raw["required"]["submitted"].append("outcom")  # a typo
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="outcom"):
        load_rules(path)


def test_an_edited_rules_file_changes_what_is_required(tmp_path: Path) -> None:
    raw = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    raw["version"] = "test-2"
    raw["required"]["submitted"].append("business_name")
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    edited = load_rules(path)
    assert edited.version == "test-2"
    assert "required" in {
        v.rule for v in validate_record(CLEAN, edited, context=CONTEXT) if v.field == "business_name"
    }
