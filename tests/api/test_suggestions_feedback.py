"""商品・役務 suggestions through the API: a counselor's correction changes the next suggestion for
tickets like it (and only for those), and the parent category comes with the labels."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _products(client: TestClient, ticket_id: int, headers: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    res = client.get(f"/api/tickets/{ticket_id}/suggestions", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()["categories"]["product_category"]


def test_a_correction_flips_the_next_similar_ticket_and_leaves_others_alone(
    client: TestClient, db: Session
) -> None:
    tokyo = make_center(db, "TKY")
    make_user(db, tokyo, "sato")
    sato = login(client, "sato")
    first = receive(db, tokyo, "ウォーターサーバーの水の定期をやめたい", sender="U1")
    other = receive(db, tokyo, "光回線の解約金が高すぎる", sender="U2")
    before = _products(client, first.ticket_id, sato)
    assert before[0]["label"] == "住居品一般" and "keywords" in before[0]["sources"]
    assert _products(client, other.ticket_id, sato)[0]["label"] == "インターネット接続回線"

    res = client.post(
        f"/api/tickets/{first.ticket_id}/suggestions/feedback",
        headers=sato,
        json={"product_category": "飲料", "suggested": {"product_category": "住居品一般"}},
    )
    assert res.status_code == 204, res.text

    again = receive(db, tokyo, "ウォーターサーバーの解約金が高い", sender="U3")
    after = _products(client, again.ticket_id, sato)
    assert after[0]["label"] == "飲料"
    assert "counselor corrections" in after[0]["sources"]
    assert [s["label"] for s in after].index("住居品一般") > 0  # demoted, still offered
    assert _products(client, other.ticket_id, sato)[0]["label"] == "インターネット接続回線"


def test_suggestions_carry_the_parent_category(client: TestClient, db: Session) -> None:
    tokyo = make_center(db, "TKY")
    make_user(db, tokyo, "sato")
    sato = login(client, "sato")
    t = receive(db, tokyo, "子どもの塾をやめたいと言ったら月謝を返さないと言われた", sender="U1")
    res = client.get(f"/api/tickets/{t.ticket_id}/suggestions", headers=sato)
    cats = res.json()["categories"]
    assert cats["product_category"][0]["label"] == "学習塾"
    assert cats["product_category_top"][0]["label"] == "教育サービス"
    assert 0 < cats["product_category_top"][0]["confidence"] <= 1
