"""Time of the trend statistics on a year of approved records, against a plain GROUP BY in the same run.

    .venv/bin/python bench/trends_stats.py [--records 20000] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds a scratch SQLite file (or, with --postgres, a scratch database on that server, dropped afterwards) with
``--records`` approved consultations over 52 weeks, then times, best of 3: the baseline (one SQL
``GROUP BY product_category`` count over the same rows), ``trend_counts`` (category per week) and
``find_spikes`` (category, 8 weeks of history). Prints the figures and their ratio to the baseline;
writes bench/results/trends_stats.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from config.clock import JST  # noqa: E402
from crm.db import create_scratch_database, drop_database, make_engine  # noqa: E402
from crm.models import CaseRecord, Center, Contact, RecordStatus, Role, Ticket, TicketStatus, User  # noqa: E402
from crm.schema import load_models  # noqa: E402
from knowledge.trends.service import find_spikes, scope_for, trend_counts  # noqa: E402

OUT = ROOT / "bench" / "results" / "trends_stats.json"
CATEGORIES = ("健康食品", "化粧品", "オンラインゲーム", "電気", "賃貸アパート", "光回線", "屋根工事", "新聞")
START = date(2025, 10, 6)


def build(session: Session, n: int, rng: random.Random) -> None:
    center = Center(code="bench", name="ベンチ消費生活センター", prefecture="東京都")
    session.add(center)
    session.flush()
    for i in range(n):
        day = START + timedelta(days=rng.randrange(364))
        at = datetime(day.year, day.month, day.day, 12, tzinfo=JST)
        contact = Contact(age_band=rng.choice(("20歳代", "40歳代", "70歳以上")), gender="女性")
        session.add(contact)
        session.flush()
        ticket = Ticket(
            center_id=center.id,  # type: ignore[arg-type]
            contact_id=contact.id,  # type: ignore[arg-type]
            channel=rng.choice(("voice", "line", "email")),
            status=TicketStatus.CLOSED,
            product_category=rng.choice(CATEGORIES),
            sales_method="通信販売",
            content_keywords=["定期購入"],
            created_at=at,
        )
        session.add(ticket)
        session.flush()
        session.add(CaseRecord(ticket_id=ticket.id, center_id=center.id, status=RecordStatus.APPROVED))  # type: ignore[arg-type]
        if i % 1000 == 0:
            session.commit()
    session.add(User(username="bench-admin", password_hash="x", role=Role.ADMIN))
    session.commit()


def best_of(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument(
        "--postgres", default="", help="server URL: a scratch database is created there and dropped"
    )
    args = parser.parse_args()
    url = (
        create_scratch_database(args.postgres, "trends_bench")
        if args.postgres
        else f"sqlite:///{tempfile.mkdtemp(prefix='trends-bench-')}/bench.db"
    )
    try:
        run(url, args.records)
    finally:
        if args.postgres:
            drop_database(url)


def run(url: str, records: int) -> None:
    engine = make_engine(url, durable=False)
    load_models().metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        build(session, records, random.Random(1))
        admin = session.exec(select(User).where(User.username == "bench-admin")).one()
        scope = scope_for(admin, date_from=START, date_to=START + timedelta(days=363))

        def baseline() -> Any:
            return session.exec(
                select(Ticket.product_category, func.count())
                .join(CaseRecord, CaseRecord.ticket_id == Ticket.id)  # type: ignore[arg-type]
                .where(CaseRecord.status == RecordStatus.APPROVED)
                .group_by(Ticket.product_category)
            ).all()

        figures = {
            "baseline_group_by_s": best_of(baseline),
            "trend_counts_s": best_of(
                lambda: trend_counts(session, scope, dimension="category", period="week")
            ),
            "find_spikes_s": best_of(lambda: find_spikes(session, scope, dimension="category", examples=0)),
        }
    engine.dispose()
    base = figures["baseline_group_by_s"]
    result = {
        "records": records,
        "backend": url.split(":", 1)[0],
        **{k: round(v, 4) for k, v in figures.items()},
        "trend_counts_ratio": round(figures["trend_counts_s"] / base, 1),
        "find_spikes_ratio": round(figures["find_spikes_s"] / base, 1),
    }
    for key, value in result.items():
        print(f"{key:22} {value}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    results = results if "sqlite" in results or "postgresql" in results else {}
    results[result["backend"].split("+")[0]] = result
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
