"""Routes for consultation trends (supervisors and admins; a supervisor sees their own center).

JSON contract for the console's charts:

* ``GET /api/stats/counts?dimension=category&period=day|week|month&date_from=…&date_to=…[&top=10&channel=…]``
  → ``{"dimension", "period", "date_from", "date_to", "k", "counted", "periods": ["2026-09-21", …],
  "totals": [int|null, …], "series": [{"value": "健康食品", "counts": [int|null, …], "total": int|null}],
  "more_values": int}``. ``counts[i]`` belongs to ``periods[i]`` (the day, the week's Monday or the month's 1st, JST);
  ``null`` is hidden: a small cell (1 … k-1 records), or a total that would give one back by
  subtraction. Draw it as a gap or "秘匿", never as 0.
* ``GET /api/stats/spikes?dimension=category&date_from=…&date_to=…`` → ``[{"dimension", "value",
  "week", "count", "expected", "ratio" (null: empty baseline), "p_value", "examples": [{"subject",
  "summary"}]}]``, strongest first; examples are PII-masked.
* ``GET /api/stats/digest.html|.csv?week=YYYY-MM-DD``: the weekly digest (default: last full week).
* ``GET /api/exports/anonymized.csv|.parquet?date_from=…&date_to=…`` and
  ``/api/exports/anonymized-columns.csv``: k-anonymous records and their column dictionary.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from crm.deps import SessionDep, SupervisorUser
from knowledge.trends.anonymized import columns_csv
from knowledge.trends.digest import last_full_week
from knowledge.trends.partner import export_anonymized, export_digest
from knowledge.trends.service import Scope, find_spikes, scope_for, trend_counts

router = APIRouter(prefix="/api", tags=["trends"])

Label = Annotated[str | None, Query(max_length=64)]
Dimension = Annotated[
    str, Query(pattern="^(category|channel|sales_method|age_band|keyword|center|prefecture|business)$")
]
CSV = "text/csv; charset=utf-8"


def _scope(
    user: SupervisorUser,
    date_from: date,
    date_to: date,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    channel: Label = None,
    category: Label = None,
    sales_method: Label = None,
    age_band: Label = None,
    prefecture: Label = None,
) -> Scope:
    return scope_for(
        user,
        date_from=date_from,
        date_to=date_to,
        center_id=center_id,
        channel=channel,
        category=category,
        sales_method=sales_method,
        age_band=age_band,
        prefecture=prefecture,
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/stats/counts")
def stats_counts(
    session: SessionDep,
    user: SupervisorUser,
    date_from: date,
    date_to: date,
    dimension: Dimension = "category",
    period: Annotated[str, Query(pattern="^(day|week|month)$")] = "week",
    top: Annotated[int, Query(ge=1, le=50)] = 10,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    channel: Label = None,
    category: Label = None,
    sales_method: Label = None,
    age_band: Label = None,
    prefecture: Label = None,
) -> dict[str, object]:
    """Approved records per day, week or month and value of ``dimension`` (small cells null)."""
    scope = _scope(user, date_from, date_to, center_id, channel, category, sales_method, age_band, prefecture)
    return trend_counts(session, scope, dimension=dimension, period=period, top=top)


@router.get("/stats/spikes")
def stats_spikes(
    session: SessionDep,
    user: SupervisorUser,
    date_from: date,
    date_to: date,
    dimension: Dimension = "category",
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[dict[str, object]]:
    """Weeks in the period where a value spiked against its 8 weeks before (method: spikes.py)."""
    scope = _scope(user, date_from, date_to, center_id)
    return find_spikes(session, scope, dimension=dimension)


def _digest(
    session: SessionDep, user: SupervisorUser, week: date | None, center_id: int | None, fmt: str
) -> str:
    monday = week or last_full_week()
    scope = _scope(user, monday, monday + timedelta(days=6), center_id)
    return export_digest(session, scope=scope, actor=user, week=monday, fmt=fmt)


@router.get("/stats/digest.html", response_class=Response)
def digest_page(
    session: SessionDep,
    user: SupervisorUser,
    week: date | None = None,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The weekly digest as one self-contained HTML page."""
    return Response(_digest(session, user, week, center_id, "html"), media_type="text/html; charset=utf-8")


@router.get("/stats/digest.csv", response_class=Response)
def digest_table(
    session: SessionDep,
    user: SupervisorUser,
    week: date | None = None,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The weekly digest as CSV (UTF-8 with BOM)."""
    body = _digest(session, user, week, center_id, "csv")
    return Response(body, media_type=CSV, headers=_attachment("madoguchi-digest.csv"))


@router.get("/exports/anonymized.csv", response_class=Response)
def anonymized_csv(
    session: SessionDep,
    user: SupervisorUser,
    date_from: date,
    date_to: date,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """K-anonymous records, no free text or identifier (CSV with BOM for Excel)."""
    return _anonymized(session, user, _scope(user, date_from, date_to, center_id), "csv", CSV)


@router.get("/exports/anonymized.parquet", response_class=Response)
def anonymized_parquet(
    session: SessionDep,
    user: SupervisorUser,
    date_from: date,
    date_to: date,
    center_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The same records as Parquet; each column carries its description."""
    scope = _scope(user, date_from, date_to, center_id)
    return _anonymized(session, user, scope, "parquet", "application/vnd.apache.parquet")


def _anonymized(session: Any, user: Any, scope: Scope, fmt: str, media_type: str) -> Response:
    """One anonymized export as a download; ``X-Rows-Left-Out`` counts rows that could not reach k."""
    body, _rows, left_out = export_anonymized(session, scope=scope, actor=user, fmt=fmt)
    name = f"madoguchi-anonymized-{scope.date_from}-{scope.date_to}.{fmt}"
    return Response(
        body, media_type=media_type, headers={**_attachment(name), "X-Rows-Left-Out": str(left_out)}
    )


@router.get("/exports/anonymized-columns.csv", response_class=Response)
def anonymized_columns(_user: SupervisorUser) -> Response:
    """The column dictionary of the anonymized export."""
    return Response(columns_csv(), media_type=CSV, headers=_attachment("madoguchi-anonymized-columns.csv"))
