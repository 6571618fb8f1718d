"""``madoguchi knowledge ...``: import documents from JSON Lines, rebuild the index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Knowledge base: import documents, rebuild the search index.", no_args_is_help=True)
console = Console(stderr=True)
KINDS = ("case", "faq", "advice", "law", "reference")


def _records(path: Path) -> Iterator[tuple[int, dict]]:  # type: ignore[type-arg]
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                yield n, json.loads(line)


def to_document(rec: dict, line: int):  # type: ignore[no-untyped-def,type-arg]
    """A DocumentIn from an import record ({id, kind, title, body, tags} or a demo case)."""
    from knowledge.service import DocumentIn

    body = rec.get("body") or "\n".join(
        str(rec[k]) for k in ("summary", "consumer_message", "advice") if rec.get(k)
    )
    title = rec.get("title") or rec.get("subject") or ""
    kind = rec.get("kind") or ("case" if "summary" in rec else "")
    if not rec.get("id") or not title or not body or kind not in KINDS:
        raise ValueError(f"line {line}: needs id, title (or subject), body (or summary) and kind in {KINDS}")
    fields = {
        k: rec[k]
        for k in (
            "product_category",
            "product_category_top",
            "sales_method",
            "content_keywords",
            "outcome",
            "reviewed",  # FAQ / reference checked by a supervisor: may be sent as self-help
        )
        if rec.get(k) is not None
    }
    return DocumentIn(
        id=str(rec["id"]),
        kind=kind,
        title=str(title),
        body=str(body),
        tags=list(rec.get("tags", [])),
        center_id=rec.get("center_id"),
        fields=fields,
    )


@app.command("import")
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False), batch: int = 200) -> None:
    """Import documents from a JSON Lines file (one document per line)."""
    from bootstrap import build_runtime
    from config.settings import get_settings
    from crm.db import session_scope
    from knowledge.service import upsert_documents

    runtime = build_runtime(get_settings())
    total = sum(1 for _ in _records(file))
    pending = []
    with _progress() as progress:
        task = progress.add_task("importing", total=total)
        for line, rec in _records(file):
            try:
                pending.append(to_document(rec, line))
            except ValueError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from None
            if len(pending) >= batch:
                with session_scope(runtime.engine) as session:
                    upsert_documents(session, pending)  # vectors: the server's background job
                progress.advance(task, len(pending))
                pending = []
        if pending:
            with session_scope(runtime.engine) as session:
                upsert_documents(session, pending)  # vectors: the server's background job
            progress.advance(task, len(pending))
    console.print(f"imported {total} documents from {file}")
    runtime.close()


@app.command()
def reindex() -> None:
    """Rebuild the search index from the stored documents (after editing synonyms or stop words)."""
    from sqlmodel import func, select

    from bootstrap import build_runtime
    from config.settings import get_settings
    from crm.db import session_scope
    from knowledge.models import KnowledgeDocument
    from knowledge.service import reindex_all

    runtime = build_runtime(get_settings())
    with session_scope(runtime.engine) as session, _progress() as progress:
        total = session.exec(select(func.count()).select_from(KnowledgeDocument)).one()
        task = progress.add_task("reindexing", total=total)
        n = reindex_all(session, progress=lambda k: progress.advance(task, k))
    console.print(f"reindexed {n} documents")
    runtime.close()


@app.command("self-help")
def self_help(
    center: str = typer.Argument(..., help="center code"),
    on: bool = typer.Option(..., "--on/--off", help="send reviewed FAQ entries to consumers who wait"),
    min_queue_position: int = typer.Option(3, help="place in the queue from which the wait counts as long"),
) -> None:
    """Opt a center in or out of self-help while waiting (after hours or in a long LINE queue)."""
    from sqlmodel import select

    from bootstrap import build_runtime
    from config.settings import get_settings
    from crm.db import session_scope
    from crm.models import Center
    from knowledge.self_help import set_self_help

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.engine) as session:
            row = session.exec(select(Center).where(Center.code == center)).first()
            if row is None:
                raise ValueError(f"no center with code {center!r} (see `madoguchi center list`)")
            set_self_help(session, center_id=row.id, enabled=on, min_queue_position=min_queue_position)  # type: ignore[arg-type]
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    console.print(
        f"self-help {'on' if on else 'off'} for {center} (long queue from place {min_queue_position})"
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
