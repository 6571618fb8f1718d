"""``madoguchi trends ...``: spikes and the weekly digest from the command line (e.g. a weekly cron)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from sqlmodel import Session, select

app = typer.Typer(help="Consultation trends: spikes, weekly digest.", no_args_is_help=True)
console = Console()


def _scope(session: Session, center: str | None, date_from: date, date_to: date):  # type: ignore[no-untyped-def]
    from crm.models import Center
    from knowledge.trends.records import check_range
    from knowledge.trends.service import Scope

    check_range(date_from, date_to)
    if center is None:
        return Scope(date_from, date_to, None, {})
    found = session.exec(select(Center).where(Center.code == center)).first()
    if found is None:
        raise typer.BadParameter(f"no center with code {center!r}", param_hint="--center")
    return Scope(date_from, date_to, {found.id}, {})  # type: ignore[arg-type]


def _engine():  # type: ignore[no-untyped-def]
    from config.settings import get_settings
    from crm.db import make_engine

    return make_engine(get_settings().database_url)


@app.command("spikes")
def spikes(
    date_from: str = typer.Option(..., "--from", help="first day (YYYY-MM-DD, JST)"),
    date_to: str = typer.Option(..., "--to", help="last day (YYYY-MM-DD, JST)"),
    dimension: str = typer.Option("category", help="category, keyword, sales_method, channel, age_band, ..."),
    center: str | None = typer.Option(None, help="a center code; all centers when left out"),
) -> None:
    """List the weeks where a value spiked (method: knowledge/trends/spikes.py)."""
    from knowledge.trends.service import find_spikes

    with Session(_engine()) as session:
        scope = _scope(session, center, date.fromisoformat(date_from), date.fromisoformat(date_to))
        found = find_spikes(session, scope, dimension=dimension, examples=1)
    if not found:
        console.print("no spikes in that period")
    for s in found:
        example = s["examples"][0]["subject"] if s["examples"] else ""
        console.print(
            f"{s['week']}  {s['value']}: {s['count']} cases (usual {s['expected']}/week, "
            f"p={s['p_value']:.1e})  e.g. {example}"
        )


@app.command("digest")
def digest(
    week: str = typer.Option(..., help="any day of the week (YYYY-MM-DD, JST)"),
    out: Path = typer.Option(..., help="file to write (.html or .csv)"),
    center: str | None = typer.Option(None, help="a center code; all centers when left out"),
) -> None:
    """Write the weekly digest as HTML or CSV (by the file's extension)."""
    from knowledge.trends.partner import export_digest
    from knowledge.trends.stats import period_start

    fmt = "csv" if out.suffix.lower() == ".csv" else "html"
    monday = period_start(date.fromisoformat(week), "week")
    with Session(_engine()) as session:
        scope = _scope(session, center, monday, monday + timedelta(days=6))
        body = export_digest(session, scope=scope, actor=None, week=monday, fmt=fmt)
    out.write_text(body, encoding="utf-8")
    console.print(f"wrote {out} ({fmt}, week of {monday})")
