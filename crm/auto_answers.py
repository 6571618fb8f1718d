"""Default Japanese texts a center's account sends by itself (greeting, consent receipt, rating
thanks, group refusal). They go through the outbox like every other outbound message.

Counselors' replies are never generated here. Centers can override these later from settings;
keep them short: LINE counts every text object against 5,000 UTF-16 units.
"""

from __future__ import annotations

from typing import Any

WEEKDAYS = (
    ("mon", "月"),
    ("tue", "火"),
    ("wed", "水"),
    ("thu", "木"),
    ("fri", "金"),
    ("sat", "土"),
    ("sun", "日"),
)

GREETING = (
    "友だち追加ありがとうございます。{center_name}のLINE相談窓口です。\n"
    "\n"
    "契約・解約、悪質商法、製品やサービスの事故など、消費生活に関するご相談を"
    "消費生活相談員がお受けします。このトークにご相談内容をお送りください"
    "（いつ・どこで・何を・いくらで契約したか、事業者名などが分かると助かります）。\n"
    "\n"
    "受付時間：{hours}\n"
    "時間外に届いたご相談には、次の受付時間内に順番にお返事します。"
    "緊急の場合や命に関わる事故は、119番・110番へ。\n"
    "\n"
    "【個人情報の取扱い】いただいた内容は相談対応と再発防止のために利用し、"
    "法令に基づく場合を除き、ご本人の同意なく第三者に提供しません。"
    "相談内容は当センターのシステムに保管されます。"
)

AFTER_HOURS = (
    "ご相談ありがとうございます。ただいま受付時間外です（受付時間：{hours}）。"
    "いただいた内容は受け付けました。受付時間内に相談員からお返事します。"
)

GROUP_REFUSAL = (
    "{center_name}のLINE相談は、ご本人との1対1のトークでのみお受けしています。"
    "個人情報を守るため、このグループからは退出します。"
    "ご相談は、この公式アカウントとの1対1のトークからお送りください。"
)

CONSENT_RECORDED = {
    True: "ご回答ありがとうございます。関係機関への情報提供に同意いただいたことを記録しました。",
    False: "ご回答ありがとうございます。情報提供には同意されないことを記録しました。",
}

RATING_THANKS = "アンケートへのご回答ありがとうございました。"


def format_hours(hours: dict[str, Any] | None) -> str:
    """``{"mon": [["09:00","17:00"]], ...}`` → ``月〜金 09:00〜17:00（土日祝・年末年始を除く）``-like text."""
    if not hours:
        return "センターの開所時間内"
    groups: list[tuple[list[str], str]] = []
    for key, label in WEEKDAYS:
        spans = hours.get(key) or []
        text = "、".join(f"{s}〜{e}" for s, e in spans) if spans else ""
        if not text:
            continue
        if groups and groups[-1][1] == text and _consecutive(groups[-1][0][-1], label):
            groups[-1][0].append(label)
        else:
            groups.append(([label], text))
    parts = []
    for labels, text in groups:
        days = labels[0] if len(labels) == 1 else f"{labels[0]}〜{labels[-1]}"
        parts.append(f"{days} {text}")
    return "、".join(parts) + "（祝日・休館日を除く）" if parts else "センターの開所時間内"


def _consecutive(prev: str, label: str) -> bool:
    order = [lbl for _, lbl in WEEKDAYS]
    return order.index(label) == order.index(prev) + 1


def greeting(center_name: str, hours: dict[str, Any] | None) -> str:
    return GREETING.format(center_name=center_name, hours=format_hours(hours))


def after_hours(hours: dict[str, Any] | None) -> str:
    return AFTER_HOURS.format(hours=format_hours(hours))


def group_refusal(center_name: str) -> str:
    return GROUP_REFUSAL.format(center_name=center_name)
