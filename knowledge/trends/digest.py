"""The weekly digest for supervisors and partner agencies (消費者安全確保地域協議会), as HTML and CSV.

One JST week (Monday–Sunday): totals against the 4 weeks before, the top 商品・役務, and the spikes of
商品・役務, 内容キーワード and 販売購入形態 with PII-masked examples. Small cells are suppressed
(「秘匿」, with any total that would give one back). The HTML is one self-contained page: inline CSS, no script, no external resource.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from html import escape
from typing import Any

from sqlmodel import Session

from config.clock import today_jst
from knowledge.trends.service import Scope, find_spikes, record_count, trend_counts
from knowledge.trends.stats import K_ANONYMITY, period_start

SPIKE_DIMENSIONS = {
    "category": "商品・役務",
    "keyword": "内容キーワード",
    "sales_method": "販売購入形態",
    "business": "事業者",
}
TOP = 5


def last_full_week() -> date:
    """The Monday of the last complete JST week."""
    return period_start(today_jst(), "week") - timedelta(weeks=1)


def weekly_digest(session: Session, scope: Scope, *, week: date) -> dict[str, Any]:
    """The digest of the week starting ``period_start(week)``, as data."""
    monday = period_start(week, "week")
    this = replace(scope, date_from=monday, date_to=monday + timedelta(days=6))
    before = replace(scope, date_from=monday - timedelta(weeks=4), date_to=monday - timedelta(days=1))
    counts = trend_counts(session, this, dimension="category", period="week", top=TOP)
    previous = record_count(session, before)  # the 4 weeks as one cell: a small week is not singled out
    spikes = [s for d in SPIKE_DIMENSIONS for s in find_spikes(session, this, dimension=d)]
    return {
        "week": monday.isoformat(),
        "week_end": (monday + timedelta(days=6)).isoformat(),
        "total": counts["totals"][0] if counts["totals"] else 0,
        "previous_weekly_mean": None if previous is None else round(previous / 4, 1),
        "top_categories": [{"value": s["value"], "count": s["total"]} for s in counts["series"]],
        "spikes": spikes,
        "k": K_ANONYMITY,
    }


HIDDEN = "秘匿"  # fewer than K, or a figure that would give such a cell back


def _n(count: int | None) -> str:
    return HIDDEN if count is None else str(count)


def digest_csv(digest: dict[str, Any]) -> str:
    """CSV (UTF-8 with BOM, for Excel): one row per figure; section, item, value, detail."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(("区分", "項目", "件数", "詳細"))
    w.writerow(
        ("週", f"{digest['week']}〜{digest['week_end']}", _n(digest["total"]), "承認済み相談 (approved)")
    )
    w.writerow(("前4週平均", "", digest["previous_weekly_mean"] or "", ""))
    for row in digest["top_categories"]:
        w.writerow(("商品・役務 上位", row["value"], _n(row["count"]), ""))
    for s in digest["spikes"]:
        detail = f"平常 {s['expected']}件/週, p={s['p_value']:.1e}"
        w.writerow((f"急増 ({SPIKE_DIMENSIONS[s['dimension']]})", s["value"], s["count"], detail))
    return out.getvalue()


def digest_html(digest: dict[str, Any], *, center_label: str) -> str:
    """A self-contained HTML page of the digest (everything escaped)."""
    e = escape
    top = "".join(
        f"<tr><td>{e(r['value'])}</td><td>{e(_n(r['count']))}</td></tr>" for r in digest["top_categories"]
    )
    spikes = "".join(
        f"<li><b>{e(s['value'])}</b> ({e(SPIKE_DIMENSIONS[s['dimension']])}): {s['count']}件 "
        f"(平常 {s['expected']}件/週, p={s['p_value']:.1e})"
        + "".join(f"<blockquote>{e(x['subject'])} — {e(x['summary'])}</blockquote>" for x in s["examples"])
        + "</li>"
        for s in digest["spikes"]
    )
    mean = digest["previous_weekly_mean"]
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>週間相談動向 {e(digest['week'])}</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:1em auto}td,th{padding:.2em .8em}"
        "blockquote{color:#444;margin:.3em 1em}</style></head><body>"
        f"<h1>週間相談動向 (weekly digest) {e(digest['week'])}〜{e(digest['week_end'])}</h1>"
        f"<p>{e(center_label)} — 承認済み相談 {e(_n(digest['total']))}件"
        f"{'' if mean is None else f' (前4週平均 {mean}件)'}. "
        f"{K_ANONYMITY}件未満の区分と、それを引き算で明かす合計は「{HIDDEN}」(small cells suppressed).</p>"
        f"<h2>商品・役務 上位</h2><table><tr><th>商品・役務</th><th>件数</th></tr>{top}</table>"
        f"<h2>急増 (spikes)</h2>{f'<ul>{spikes}</ul>' if spikes else '<p>なし (none this week)</p>'}"
        "<p><small>Examples are PII-masked. Spike test: conditional Poisson (binomial) against the 8 weeks "
        "before, p &lt; 0.001, at least 5 cases and twice the usual weekly count.</small></p>"
        "</body></html>"
    )
