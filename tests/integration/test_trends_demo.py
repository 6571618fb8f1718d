"""The demo data's planted wave (one 定期購入 business, 2026-09-14 week) is what the detector finds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from config.runtime import Runtime
from crm.demo import load_demo
from crm.models import User
from knowledge.trends.digest import digest_html, weekly_digest
from knowledge.trends.service import find_spikes, scope_for


def test_the_demo_wave_is_the_one_spike_of_its_weeks(runtime: Runtime) -> None:
    load_demo(runtime.settings)  # no knowledge index: not needed for statistics
    with Session(runtime.engine) as session:
        admin = session.exec(select(User).where(User.username == "admin")).one()
        supervisor = session.exec(select(User).where(User.username == "sv-tokyo")).one()
        everywhere = scope_for(admin, date_from=date(2026, 7, 1), date_to=date(2026, 9, 30))
        spikes = find_spikes(session, everywhere, dimension="category")
        assert [(s["value"], s["week"]) for s in spikes] == [("健康食品", "2026-09-14")]
        assert spikes[0]["count"] == 12 and "サプリ" in str(spikes[0]["examples"])
        # One business however its name was typed (株式会社… / (株)… / bare), from the approved records.
        by_business = find_spikes(session, everywhere, dimension="business")
        assert [(s["value"], s["count"]) for s in by_business] == [("ビューティーサプリ本舗", 12)]
        mine = scope_for(supervisor, date_from=date(2026, 9, 14), date_to=date(2026, 9, 20))
        keywords = {s["value"] for s in find_spikes(session, mine, dimension="keyword")}
        assert "定期購入" in keywords and keywords <= {"定期購入", "契約・解約", "表示・広告", "連絡不能"}
        page = digest_html(weekly_digest(session, mine, week=date(2026, 9, 14)), center_label="東京都")
        assert "健康食品" in page and "急増" in page


def test_the_cli_prints_the_spike_and_writes_the_digest(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings
    from knowledge.trends.cli import app

    load_demo(runtime.settings)
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", runtime.settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        shown = runner.invoke(app, ["spikes", "--from", "2026-07-01", "--to", "2026-09-30"])
        assert shown.exit_code == 0 and "2026-09-14  健康食品: 12 cases" in shown.output
        out = tmp_path / "digest.csv"
        written = runner.invoke(
            app, ["digest", "--week", "2026-09-16", "--out", str(out), "--center", "tokyo"]
        )
        assert written.exit_code == 0 and "健康食品,12" in out.read_text(encoding="utf-8")
        wrong = runner.invoke(
            app, ["digest", "--week", "2026-09-16", "--out", str(out), "--center", "nowhere"]
        )
        assert wrong.exit_code != 0 and "no center with code 'nowhere'" in wrong.output
    finally:
        get_settings.cache_clear()
