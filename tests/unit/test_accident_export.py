"""The notification's dates are JST whatever the process time zone, at the hours where UTC and JST differ."""

from __future__ import annotations

from datetime import timedelta

from config.clock import now_utc
from crm.accident_export import notification_csv, notification_items
from crm.models import AccidentReport, Center
from tests.clock import Instant


def test_notification_dates_are_japan_time(jst_clock: Instant) -> None:
    learned = now_utc() - timedelta(minutes=90)
    report = AccidentReport(
        ticket_id=7, learned_at=learned, learned_method="電話相談", detection_reasons=["火災"]
    )
    items = dict(
        notification_items(
            report, center=Center(code="c", name="区センター", prefecture="東京都"), within=timedelta(hours=1)
        )
    )
    expected = (jst_clock.at - timedelta(minutes=90)).strftime("%Y-%m-%d %H:%M JST")
    assert items["情報を得た日時"] == expected  # the JST wall clock, also when the UTC date is a day behind
    assert items["経過時間 (情報を得た日時→通知)"].startswith("1時間30分 (期限超過 (overdue)")
    assert items["通知日時"] == "未通知 (draft)" and items["種別"].startswith("重大事故等")
    assert notification_csv(list(items.items())).startswith("\ufeff項目,内容\r\n報,第1報")
