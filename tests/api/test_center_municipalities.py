"""Center.municipalities (市区町村 a center serves; the 188 IVR routes postal codes by them) through the
admin API: stored normalised and once, garbage refused with 422 naming the entry, nothing half-saved."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from crm.models import Center
from tests.api import test_admin_api

people = test_admin_api.people  # the fixture: centers CA and NAT, an admin, a supervisor, a counselor


def test_admin_sets_the_municipalities_a_center_serves(client: TestClient, people: dict, db: Session) -> None:
    admin = people["admin"]
    body = {"municipalities": ["世田谷区", "ｾﾀｶﾞﾔ区", "世田谷区", " 西多摩郡奥多摩町 "]}
    res = client.patch(f"/api/centers/{people['a']}", json=body, headers=admin)
    assert res.status_code == 200, res.text
    assert res.json()["municipalities"] == ["世田谷区", "セタガヤ区", "西多摩郡奥多摩町"]  # NFKC, once each
    assert client.get(f"/api/centers/{people['a']}", headers=admin).json()["municipalities"] == [
        "世田谷区",
        "セタガヤ区",
        "西多摩郡奥多摩町",
    ]
    created = client.post(
        "/api/centers",
        json={
            "code": "yokohama",
            "name": "横浜市消費生活総合センター",
            "prefecture": "神奈川県",
            "municipalities": ["横浜市"],
        },
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["municipalities"] == ["横浜市"], created.text
    res = client.patch(f"/api/centers/{people['a']}", json={"municipalities": []}, headers=admin)
    assert res.status_code == 200 and res.json()["municipalities"] == []
    db.commit()


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("世田谷区", "municipalities"),  # not a list
        ({"a": "世田谷区"}, "municipalities"),
        ([1234], "municipalities[0]"),
        ([""], "municipalities[0]"),
        (["Setagaya"], "municipalities[0]"),  # not 市区町村
        (["世田谷区", "東京都"], "municipalities[1]"),  # a prefecture
        (["世田谷区\u0000"], "municipalities[0]"),
        (["世田谷\n区"], "municipalities[0]"),
        (["あ" * 40 + "区"], "municipalities[0]"),  # oversized
        (["ä¸–ç”°è°·åŒº"], "municipalities[0]"),  # mojibake of 世田谷区
    ],
)
def test_garbage_municipalities_are_422_naming_the_entry(
    client: TestClient, people: dict, db: Session, value: object, field: str
) -> None:
    res = client.patch(f"/api/centers/{people['a']}", json={"municipalities": value}, headers=people["admin"])
    assert res.status_code == 422, res.text
    detail = str(res.json()["detail"])
    assert field in detail or "municipalities" in detail, detail
    db.expire_all()
    center = db.get(Center, people["a"])
    assert center is not None and center.municipalities == []
    db.commit()


def test_too_many_municipalities_and_a_non_utf8_body_are_refused(
    client: TestClient, people: dict, db: Session
) -> None:
    many = [f"第{i}区" for i in range(501)]
    res = client.patch(f"/api/centers/{people['a']}", json={"municipalities": many}, headers=people["admin"])
    assert res.status_code == 422 and "municipalities" in res.text, res.text
    raw = '{"municipalities": ["世田谷区"]}'.encode("shift_jis")
    res = client.patch(
        f"/api/centers/{people['a']}",
        content=raw,
        headers={**people["admin"], "Content-Type": "application/json"},
    )
    assert res.status_code in (400, 422), res.text
    assert (
        client.patch(
            f"/api/centers/{people['a']}", json={"municipalities": ["世田谷区"]}, headers=people["sv"]
        ).status_code
        == 403
    )
    db.expire_all()
    center = db.get(Center, people["a"])
    assert center is not None and center.municipalities == []
    db.commit()
