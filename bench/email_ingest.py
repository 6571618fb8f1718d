"""Benchmark: mails per second parsed (channels/email/parse.py) and durably stored (raw, once).

The corpus is tests/fixtures/email (ISO-2022-JP, Shift_JIS, EUC-JP, HTML, multipart, bounces …),
cycled with a fresh Message-ID per mail. Three figures per backend:

- ``parse``: ``parse_email`` alone (pure, no I/O);
- ``parse+store``: what the SMTP listener / raw endpoint / IMAP poller do per mail: split (parse)
  and one ``INSERT … ON CONFLICT DO NOTHING`` commit, one mail per transaction;
- ``processed``: the stored mails turned into tickets and messages by the inbound jobs
  (in-process), measured separately.

Backends: the embedded default (SQLite file) and PostgreSQL (a scratch database, dropped after).

    .venv/bin/python bench/email_ingest.py              # both backends, 2000 mails
    .venv/bin/python bench/email_ingest.py --mails 500 --skip-postgres

Writes bench/results/email_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "email_ingest.json"
CORPUS = ROOT / "tests" / "fixtures" / "email"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def mails(n: int) -> list[bytes]:
    """``n`` raw mails from the corpus, each with its own Message-ID and sender."""
    import re

    base = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    out = []
    for i in range(n):
        raw = base[i % len(base)]
        raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*(\r?\n|\r)", b"", raw, count=1)
        eol = b"\r\n" if b"\r\n" in raw else (b"\r" if b"\n" not in raw else b"\n")
        out.append(b"Message-ID: <bench-" + str(i).encode() + b"@bench.example>" + eol + raw)
    return out


def run_backend(name: str, database_url: str, data_dir: Path, corpus: list[bytes]) -> dict[str, Any]:
    from sqlmodel import Session, func, select

    from bootstrap import build_runtime, set_runtime
    from channels.email.adapter import EmailAdapter
    from channels.email.parse import parse_email
    from channels.inbox import enqueue_new
    from config.settings import Settings
    from crm.channel_accounts import create_account
    from crm.inbound_events import store_raw
    from crm.models import Center, InboundEvent, Message
    from crm.schema import load_models

    settings = Settings(env="test", database_url=database_url, data_dir=data_dir, secret_key="b" * 48)
    rt = build_runtime(settings)
    load_models().metadata.create_all(rt.engine)  # a fresh database: the models' tables as they are now
    with Session(rt.engine, expire_on_commit=False) as s:
        center = Center(code="BENCH", name="ベンチ消費生活センター", prefecture="東京都")
        s.add(center)
        s.commit()
        info, _ = create_account(
            s,
            kind="email",
            center_id=center.id,
            name="bench",
            address="soudan@bench.demo.example",
            keys=settings.encryption_keys,
        )
    adapter = EmailAdapter.for_account(info, settings)

    t0 = time.perf_counter()
    for raw in corpus:
        parse_email(raw)
    parse_s = time.perf_counter() - t0

    results = []
    t0 = time.perf_counter()
    for raw in corpus:
        results.append(store_raw(rt.engine, channel="email", account_id=info.id, events=adapter.split(raw)))
    store_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for result in results:
        enqueue_new(rt, info.id, result)
    rt.jobs.start([])
    rt.jobs.drain(timeout=600)
    process_s = time.perf_counter() - t0
    with Session(rt.engine) as s:
        stored = int(s.exec(select(func.count()).select_from(InboundEvent)).one())
        messages = int(s.exec(select(func.count()).select_from(Message)).one())
    rt.close()
    set_runtime(None)
    n = len(corpus)
    return {
        "backend": name,
        "mails": n,
        "parse_mails_per_s": round(n / parse_s, 1),
        "parse_and_store_mails_per_s": round(n / store_s, 1),
        "processed_mails_per_s": round(n / process_s, 1),
        "stored_events": stored,
        "messages_recorded": messages,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--postgres-url", default=DEFAULT_PG)
    args = ap.parse_args()
    corpus = mails(args.mails)
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="madoguchi-email-bench-") as tmp:
        if not args.skip_embedded:
            out.append(run_backend("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), corpus))
            print(json.dumps(out[-1], ensure_ascii=False))
        if not args.skip_postgres:
            from crm.db import create_scratch_database, drop_database

            url = create_scratch_database(args.postgres_url, "madoguchi_bench_email")
            try:
                out.append(run_backend("postgresql", url, Path(tmp), corpus))
                print(json.dumps(out[-1], ensure_ascii=False))
            finally:
                drop_database(url)
    RESULTS.write_text(
        json.dumps(
            {
                "bench": "email_ingest",
                "machine": f"{platform.machine()} {platform.python_version()}, shared 2-core box",
                "results": out,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
