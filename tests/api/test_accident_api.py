"""Accident-notification endpoints: prefilled draft, validation, access control."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from config.runtime import Runtime
from crm.models import AccidentReport
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def test_accident_report_flow_over_http(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sato")
    mine = receive(db, tokyo, "ガスファンヒーターで一酸化炭素中毒になり救急搬送されました", sender="U1")
    theirs = receive(db, osaka, "石油ストーブから出火しました", sender="U2")
    db.commit()
    h = login(client, "sato")
    res = client.post(f"/api/tickets/{mine.ticket_id}/accident-reports", headers=h)
    assert res.status_code == 201
    report = res.json()
    assert report["report_no"] == 1 and report["status"] == "draft" and report["detection_reasons"]
    url = f"/api/accident-reports/{report['id']}"
    assert client.patch(url, json={"status": "notified"}, headers=h).status_code == 422  # not editable
    res = client.post(url + "/notified", json={"method": "電話"}, headers=h)
    assert res.status_code == 400 and "発生日時" in res.json()["detail"]
    res = client.patch(
        url,
        json={"occurred_at": "11月20日 朝", "occurred_place": "自宅 居室", "product": "ガスファンヒーター"},
        headers=h,
    )
    assert res.status_code == 200
    res = client.post(url + "/notified", json={"method": "電話"}, headers=h)
    assert res.status_code == 200 and res.json()["status"] == "notified" and res.json()["delay_seconds"] >= 0
    assert client.post(url + "/notified", json={"method": "電話"}, headers=h).status_code == 409
    assert client.post(f"/api/tickets/{theirs.ticket_id}/accident-reports", headers=h).status_code == 403
    assert (
        client.post("/api/accident-reports/9999/notified", json={"method": "FAX"}, headers=h).status_code
        == 404
    )
    assert client.post(url + "/notified", json={}, headers=h).status_code == 422
    assert db.exec(select(func.count()).select_from(AccidentReport)).one() == 1


def test_draft_shows_elapsed_time_and_the_overdue_flag(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    from datetime import UTC, datetime, timedelta

    from crm.accident_escalation import run_escalation

    center = make_center(db, "KWS")
    make_user(db, center, "kato")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    late = receive(db, center, "ストーブから火が出て母がやけどで入院しました", sender="U7", at=two_hours_ago)
    fresh = receive(db, center, "充電中のバッテリーが発火して父が火傷で入院", sender="U8")
    h = login(client, "kato")
    late_report = client.post(f"/api/tickets/{late.ticket_id}/accident-reports", headers=h).json()
    fresh_report = client.post(f"/api/tickets/{fresh.ticket_id}/accident-reports", headers=h).json()
    assert late_report["overdue"] is True and late_report["escalated_at"] is None
    assert 2 * 3600 <= late_report["elapsed_seconds"] < 2 * 3600 + 120
    assert datetime.fromisoformat(late_report["notify_by"]) < datetime.now(UTC)
    assert fresh_report["overdue"] is False and fresh_report["elapsed_seconds"] < 120
    assert run_escalation(app_runtime.engine, within=timedelta(minutes=60)) == [late_report["id"]]
    shown = client.get(f"/api/tickets/{late.ticket_id}/accident-reports", headers=h).json()
    assert shown[0]["escalated_at"] is not None and shown[0]["overdue"] is True


def test_notification_exports_as_pdf_with_a_japanese_font_and_as_csv(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    import csv
    import io

    from pypdf import PdfReader

    center = make_center(db, "SGY", name="渋谷区消費生活センター")
    make_user(db, center, "ito")
    result = receive(db, center, "ストーブから火が出て母がやけどで入院しました", sender="U9")
    h = login(client, "ito")
    report = client.post(f"/api/tickets/{result.ticket_id}/accident-reports", headers=h).json()
    url = f"/api/accident-reports/{report['id']}"
    patched = client.patch(
        url,
        json={"occurred_place": "東京都渋谷区 住宅 居室", "product": "石油ストーブ", "damage": "やけど🔥"},
        headers=h,
    )  # a glyph the font lacks: the PDF is still made
    assert patched.status_code == 200

    pdf = client.get(url + "/notification.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    # fpdf2 gives a CFF (OpenType) font an embedded Identity CMap, which pypdf reads as 2-byte codes
    # with a NUL before each character; the ToUnicode map itself is right.
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    for expected in (
        "重大事故等",
        "情報を得た日時",
        "渋谷区消費生活センター",
        "石油ストーブ",
        "火が出て",
        "JST",
    ):
        assert expected in text
    font = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [
        f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for f in font.values()
    ]
    assert any("/FontFile2" in d or "/FontFile3" in d for d in descriptors)  # embedded, not referenced

    res = client.get(url + "/notification.csv", headers=h)
    assert res.status_code == 200 and res.content.startswith("\ufeff".encode())
    rows = dict(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert rows["発生場所"] == "東京都渋谷区 住宅 居室" and rows["通知日時"].startswith("未通知")
    assert rows["情報を得た方法"] == "LINE相談" and rows["情報を得た日時"].endswith("JST")
    assert client.get("/api/accident-reports/999999/notification.csv", headers=h).status_code == 404


def test_pdf_without_a_japanese_font_fails_with_what_to_install(migrated: object) -> None:
    from crm.accident_export import FontUnavailable, notification_pdf

    try:
        notification_pdf([("報", "第1報")], font_path="/nonexistent/font.ttf")
    except FontUnavailable as exc:
        assert exc.status_code == 503 and "fonts-noto-cjk" in exc.message
    else:
        raise AssertionError("a PDF was made without a Japanese font")
