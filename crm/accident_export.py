"""A 重大事故等 notification (消費者事故等情報通知) as PDF with an embedded Japanese font, and as CSV.

The items follow the 通知様式 sections (取扱い, 通知者, 種別, 発生日時・場所, 情報を得た日時・方法) and the
施行規則 第九条 fields; dates are JST. The PDF embeds a subset of a Japanese font found on the machine
(``Settings.pdf_font_path``, else Noto CJK or IPA from Debian's packages); with none, :class:`FontUnavailable`
(503) says what to install. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session

from config.clock import JST
from crm.accident_escalation import timing
from crm.audit import write_audit
from crm.errors import DomainError
from crm.models import AccidentReport, Center, Ticket, User

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
)


class FontUnavailable(DomainError):
    """No Japanese font to embed: the PDF cannot be made (the CSV still can)."""

    status_code = 503


def _jst(at: datetime | None) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST") if at else ""


def _elapsed(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes // 60}時間{minutes % 60}分"


def notification_items(
    report: AccidentReport, *, center: Center, within: timedelta, now: datetime | None = None
) -> list[tuple[str, str]]:
    """The notification as (項目, 内容) pairs, in the order of the 通知様式."""
    when = timing(report, within=within, now=now)
    notified = _jst(report.notified_at) if report.notified_at else "未通知 (draft)"
    overdue = "期限超過 (overdue)" if when.overdue else "期限内"
    return [
        ("報", f"第{report.report_no}報"),
        ("取扱い: 公益通報", "有" if report.whistleblowing else "無"),
        ("取扱い: 不開示情報を含む", "有" if report.confidential else "無"),
        ("通知者 (通知主体)", f"{center.name} ({center.prefecture})"),
        ("通知日時", notified),
        ("通知方法", report.notification_method or ""),
        ("種別", "重大事故等 (第12条第1項)" if report.serious else "重大事故等以外 (第12条第2項)"),
        ("発生日時", report.occurred_at),
        ("発生場所", report.occurred_place),
        ("情報を得た日時", _jst(report.learned_at)),
        ("情報を得た方法", report.learned_method),
        (
            "経過時間 (情報を得た日時→通知)",
            f"{_elapsed(when.elapsed_seconds)} ({overdue}, 期限 {_jst(when.notify_by)})",
        ),
        ("事故の態様", report.circumstances),
        ("商品等又は役務を特定するために必要な事項", report.product),
        ("被害の状況", report.damage),
        ("検知理由", " / ".join(report.detection_reasons)),
        ("相談受付番号", str(report.ticket_id)),
    ]


def notification_csv(items: list[tuple[str, str]]) -> str:
    """CSV text (UTF-8 with BOM, for Excel): one row per item."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(("項目", "内容"))
    writer.writerows(items)
    return out.getvalue()


@lru_cache(maxsize=8)
def find_japanese_font(configured: str = "") -> tuple[str, int]:
    """(path, face index) of a Japanese font to embed; :class:`FontUnavailable` when there is none."""
    candidates = (configured,) if configured else FONT_CANDIDATES
    for path in candidates:
        if path and Path(path).is_file():
            return path, _japanese_face(path)
    where = configured or ", ".join(FONT_CANDIDATES)
    raise FontUnavailable(
        f"no Japanese font for the PDF at {where}: install Debian's fonts-noto-cjk "
        "(apt-get install fonts-noto-cjk) or set MADOGUCHI_PDF_FONT_PATH to a TTF/OTF/TTC; the CSV export still works"
    )


def _japanese_face(path: str) -> int:
    """The JP face of a font collection (Noto CJK puts JP, KR, SC, TC, HK in one .ttc); 0 otherwise."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            if " JP" in str(font["name"].getDebugName(1) or ""):
                return index
    return 0


def notification_pdf(items: list[tuple[str, str]], *, font_path: str = "") -> bytes:
    """The notification as a one-table PDF, with a subset of a Japanese font embedded."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    path, face = find_japanese_font(font_path)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("jp", fname=path, collection_font_number=face)
    pdf.add_page()
    pdf.set_font("jp", size=14)
    pdf.multi_cell(0, 9, "消費者事故等に関する通知 (消費者安全法 第12条)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=10)
    for label, value in items:
        pdf.set_fill_color(235, 235, 235)
        pdf.multi_cell(0, 6, label, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, value or "—", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())


def export_notification(
    session: Session,
    *,
    report: AccidentReport,
    actor: User,
    kind: str,
    within: timedelta,
    font_path: str = "",
) -> bytes | str:
    """The report as ``kind`` ("pdf" or "csv"), written to the audit log."""
    ticket = session.get(Ticket, report.ticket_id)
    center = session.get(Center, ticket.center_id) if ticket else None
    assert center is not None
    items = notification_items(report, center=center, within=within)
    body: bytes | str = (
        notification_pdf(items, font_path=font_path) if kind == "pdf" else notification_csv(items)
    )
    write_audit(
        session,
        actor_id=actor.id,
        action=f"accident.export_{kind}",
        object_type="accident_report",
        object_id=report.id or 0,
    )
    session.commit()
    return body
