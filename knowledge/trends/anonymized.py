"""Anonymized record exports for partner agencies: CSV (UTF-8 with BOM, Excel) and Parquet.

No free text and no identifier at all: not the ticket number, name, phone, email, address, 地域 below
the center's 都道府県, or the exact day. Labels are controlled-vocabulary values only (records.py),
amounts are bands. The quasi-identifiers (受付週, 都道府県, 年代, 性別, 職業) are made K-anonymous by
local recoding: a row whose combination is shared by fewer than K rows has 職業, then 性別, then 年代
replaced by ``*`` and then 受付週 widened to its month, until its group has K rows; a row still
alone after that is left out (the count is returned). :data:`COLUMNS` is the column dictionary.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from knowledge.trends.records import TrendRecord
from knowledge.trends.stats import K_ANONYMITY, period_start

COLUMNS: tuple[tuple[str, str], ...] = (
    ("受付週", "Monday (JST) of the week the consultation was received, or YYYY-MM when generalized"),
    ("受付方法", "channel: 電話 / LINE / 電子メール / ウェブ"),
    ("都道府県", "prefecture of the handling center (not the consumer's address)"),
    ("年代", "契約当事者の年代 (20歳未満 … 70歳以上, 不明), * when generalized for k-anonymity"),
    ("性別", "性別 from the controlled list, 不明, or * when generalized"),
    ("職業", "職業 from the controlled list, 不明, or * when generalized"),
    ("商品・役務", "product/service category (vocabulary only; その他 / 不明 otherwise)"),
    ("販売購入形態", "sales/purchase method (vocabulary only)"),
    ("内容キーワード", "content keywords from the controlled vocabulary, separated by 、"),
    ("契約購入金額帯", "contract amount band in yen"),
    ("既支払額帯", "amount already paid, band in yen"),
    ("重大事故等", "1 if a serious accident (消費者安全法) was suspected or confirmed, else 0"),
)
QUASI = ("受付週", "都道府県", "年代", "性別", "職業")
GENERALIZE = ("職業", "性別", "年代")  # in this order, then 受付週 → month
BANDS = ((0, "0円"), (10_000, "1万円未満"), (100_000, "1万〜10万円未満"), (500_000, "10万〜50万円未満"),
         (1_000_000, "50万〜100万円未満"))  # fmt: skip


def amount_band(amount: int | None) -> str:
    """An amount as a band (never the exact figure)."""
    if amount is None:
        return "不明"
    if amount <= 0:
        return "0円"
    for upper, label in BANDS[1:]:
        if amount < upper:
            return label
    return "100万円以上"


def anonymized_rows(records: list[TrendRecord], k: int = K_ANONYMITY) -> tuple[list[dict[str, str]], int]:
    """(k-anonymous rows, rows left out) of the records."""
    rows = [_row(r) for r in records]
    done: list[dict[str, str]] = []
    pending = rows
    steps: list[str | None] = [None, *GENERALIZE, "month"]
    for step in steps:
        if step == "month":
            for row in pending:
                row["受付週"] = row["受付週"][:7]
        elif step is not None:
            for row in pending:
                row[step] = "*"
        sizes = Counter(tuple(row[q] for q in QUASI) for row in pending)
        done += [row for row in pending if sizes[tuple(row[q] for q in QUASI)] >= k]
        pending = [row for row in pending if sizes[tuple(row[q] for q in QUASI)] < k]
        if not pending:
            break
    done.sort(key=lambda row: (row["受付週"], row["都道府県"], row["商品・役務"]))
    return done, len(pending)


def _row(record: TrendRecord) -> dict[str, str]:
    return {
        "受付週": period_start(record.day, "week").isoformat(),
        "受付方法": record.channel,
        "都道府県": record.prefecture,
        "年代": record.age_band,
        "性別": record.gender,
        "職業": record.occupation,
        "商品・役務": record.category,
        "販売購入形態": record.sales_method,
        "内容キーワード": "、".join(record.keywords),
        "契約購入金額帯": amount_band(record.contract_amount),
        "既支払額帯": amount_band(record.paid_amount),
        "重大事故等": "1" if record.serious_accident else "0",
    }


def rows_csv(rows: list[dict[str, str]]) -> str:
    """CSV text with a BOM so Excel opens it as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=[name for name, _ in COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def columns_csv() -> str:
    """The column dictionary as CSV (BOM)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(("列", "説明"))
    writer.writerows(COLUMNS)
    return out.getvalue()


def rows_parquet(rows: list[dict[str, str]], *, left_out: int) -> bytes:
    """Parquet bytes; each field carries its description, the file the k and the rows left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = [pa.field(name, pa.string(), metadata={"description": text}) for name, text in COLUMNS]
    schema = pa.schema(fields, metadata={"k_anonymity": str(K_ANONYMITY), "rows_left_out": str(left_out)})
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
