"""Static guard: code (product, bench, tests) takes "today" and a datetime's date only from config.clock.

A date from ``date.today()``, naive ``datetime.now()`` or a UTC datetime's ``.date()`` is the server's
or the UTC day, off by one for nine hours of every JST day.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.source import parse_python

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crm", "routing", "knowledge", "channels", "config", "bench", "tests")
# The clock itself, and the tests that show what the naive clock says.
ALLOWED = {ROOT / "config" / "clock.py", ROOT / "tests" / "unit" / "test_clock.py"}
# Naive or local-time constructors: never right for a date a user sees.
FORBIDDEN_CALLS = {
    ("date", "today"): "date.today() is the server's local date",
    ("datetime", "today"): "datetime.today() is naive server-local time",
    ("datetime", "utcnow"): "datetime.utcnow() is naive",
    ("datetime", "utcfromtimestamp"): "datetime.utcfromtimestamp() is naive",
    ("date", "fromtimestamp"): "date.fromtimestamp() is the server's local date",
    ("time", "localtime"): "time.localtime() is the server's local time",
}
# ``ticket.created_at.date()``, ``utcnow().date()``, ``datetime.now(UTC).date()``: the UTC date.
UTC_VALUE = re.compile(r"(_at|utcnow\(\)|now_utc\(\)|now\(UTC\)|now\(timezone\.utc\))$")


def _product_files() -> list[Path]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]
    files += [ROOT / "app.py", ROOT / "madoguchi_cli.py"]
    return sorted(set(files) - ALLOWED)


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    tree = parse_python(path)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, name = node.func.value, node.func.attr
        where = f"{path.relative_to(root)}:{node.lineno}"
        owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (owner_name, name) in FORBIDDEN_CALLS:
            found.append(f"{where}: {FORBIDDEN_CALLS[owner_name, name]}")  # type: ignore[index]
        elif owner_name == "datetime" and name in ("now", "fromtimestamp"):
            tz_given = len(node.args) > (1 if name == "fromtimestamp" else 0) or any(
                k.arg == "tz" for k in node.keywords
            )
            if not tz_given:
                found.append(f"{where}: datetime.{name}() without tz is naive server-local time")
        elif name == "date" and not node.args and UTC_VALUE.search(ast.unparse(owner)):
            found.append(f"{where}: {ast.unparse(node)} is the UTC date; use config.clock.jst_date()")
    return sorted(found, key=lambda p: int(p.split(":")[1]))


def test_product_code_gets_dates_from_config_clock() -> None:
    files = _product_files()
    assert len(files) > 50, "the package layout changed: update PACKAGES"
    problems = [p for path in files for p in _problems(path)]
    assert not problems, "use config.clock (today_jst, jst_date, now_utc):\n" + "\n".join(problems)


def test_the_guard_catches_each_pattern(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from datetime import date, datetime\n"
        "a = date.today()\n"
        "b = datetime.now()\n"
        "c = ticket.created_at.date()\n"
        "d = utcnow().date()\n"
        "e = datetime.fromtimestamp(1)\n"
        "ok = (datetime.now(UTC), datetime.fromtimestamp(1, UTC), local.date(), datetime.now(tz=JST))\n",
        encoding="utf-8",
    )
    lines = [p.split(":")[1] for p in _problems(bad, tmp_path)]
    assert lines == ["2", "3", "4", "5", "6"]


def test_the_console_shows_times_in_japan() -> None:
    # the console's ES modules; records.js (the record panel) formats numbers with toLocaleString too
    modules = [
        p for p in sorted((ROOT / "crm" / "console" / "static").glob("*.js")) if p.name != "records.js"
    ]
    js = "\n".join(p.read_text(encoding="utf-8") for p in modules)
    calls = re.findall(r"\.toLocale(?:Date|Time)?String\(([^;]*)", js)
    assert calls and all('timeZone: "Asia/Tokyo"' in c for c in calls), calls
    for local in (".getDate()", ".getHours()", ".getDay()", "toISOString().slice(0, 10)"):
        assert local not in js, f"the console uses the browser's local or UTC date: {local}"
