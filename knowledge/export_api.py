"""``GET /api/exports/cases.csv``: the PIO-NET-style case export, built from the cross-center view."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from crm.deps import SessionDep, SupervisorUser
from knowledge.export import export_cases_csv

router = APIRouter(prefix="/api", tags=["exports"])


@router.get("/exports/cases.csv", response_class=Response)
def export_cases(session: SessionDep, user: SupervisorUser, date_from: date, date_to: date) -> Response:
    """PIO-NET-style CSV of the cases received in the period: no identifying data, text PII-masked."""
    body, _rows = export_cases_csv(session, user=user, date_from=date_from, date_to=date_to)
    filename = f"madoguchi-cases-{date_from}-{date_to}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
