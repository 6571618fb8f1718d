"""``madoguchi staffing``: how many counselors for a service-level target (Erlang C / Erlang A)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from routing.queues import staffing as compute_staffing

app = typer.Typer(help="Routing tools.")


@app.command()
def staffing(
    arrivals_per_hour: float = typer.Option(..., min=0.0001, help="contacts per hour"),
    aht_seconds: float = typer.Option(..., min=1, help="average handling time (seconds)"),
    target: float = typer.Option(0.8, min=0.01, max=0.999, help="service-level target, e.g. 0.8"),
    within_seconds: float = typer.Option(60, min=0, help="answered within this many seconds"),
    patience_seconds: float | None = typer.Option(None, min=1, help="mean patience: use Erlang A"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Counselors needed for TARGET answered within WITHIN_SECONDS at this load."""
    from crm.errors import DomainError

    try:
        result = compute_staffing(
            arrivals_per_hour=arrivals_per_hour,
            aht_seconds=aht_seconds,
            target=target,
            within_seconds=within_seconds,
            patience_seconds=patience_seconds,
        )
    except DomainError as exc:  # out of the documented ranges (routing.erlang.LIMITS)
        Console(stderr=True).print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    model = "Erlang A" if patience_seconds else "Erlang C"
    console = Console()
    console.print(
        f"{model}: [bold]{result['required_agents']}[/bold] counselors for {target:.0%} "
        f"within {within_seconds:g} s ({arrivals_per_hour:g}/h, AHT {aht_seconds:g} s)"
    )
    table = Table("agents", "occupancy", "P(wait)", "ASA s", "SL", "abandon")
    for row in result["table"]:
        table.add_row(
            str(row["agents"]),
            f"{row['occupancy']:.1%}",
            f"{row['p_wait']:.1%}",
            "∞" if row["asa"] is None else f"{row['asa']:.1f}",
            f"{row['service_level']:.1%}",
            f"{row['p_abandon']:.1%}",
        )
    console.print(table)
