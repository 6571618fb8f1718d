"""The shortest-first scorer of the SQLite store: the top rows of one step (an AND of terms, or one
term: every row has each of them) by BM25 without FTS5's bm25(), which costs 20–150 µs a row.

Rows come shortest first (length-ordered ids, :mod:`knowledge.sqlite_fts`) and are scored from our own
tables: idf from ``knowledge_search_df``, the length from the row id, tf from ``knowledge_term_tf``
(the rows where a term occurs twice or more; absent: 1).

* every term's max tf is 1 (``knowledge_term_max_tf``): the first k rows are the top k, one
  ``LIMIT k`` read (:func:`top_by_length`);
* else (:func:`top_by_repeats`): the first k rows of the match, then only the rows where a term
  repeats, from that term's list in ``knowledge_term_tf`` for each count c (shortest first, checked
  in SQL for the step's other terms and the filters), until the k-th best reaches a bound on every
  unread row of that list: Σ idf · (k1+1) · m / (m + norm(length)), m = c for that term and the
  max tf for the others. Any other row has every term once
  and is longer than the first k, so it cannot rank above them;
* an index built before ``knowledge_term_tf`` (no marker row) reads the whole match in growing
  windows and counts tf from the stored terms (:func:`top_shortest_first`) until it is reindexed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause

from knowledge.index import K1, B
from knowledge.sqlite_fts import LENGTH_SHIFT

FIRST_WINDOW = 512  # rows read by the first window of a large step (then doubled)
_BOUND_SLACK = 1e-9  # float safety margin on the unread-row bound
TF_MARKER = {"t": "", "i": 0}  # the knowledge_term_tf row saying every row's tf >= 2 is recorded

Bounds = dict[str, tuple[int, float]]  # term -> (m = its max tf, idf · (k1+1) · m)


def has_tf_rows(conn: Connection) -> bool:
    """True when ``knowledge_term_tf`` holds every row's repeated terms (the index was built with it)."""
    row = conn.execute(text("SELECT 1 FROM knowledge_term_tf WHERE term = :t AND id = :i"), TF_MARKER)
    return row.first() is not None


def repeat_counts(conn: Connection, terms: Sequence[str]) -> dict[str, int]:
    """term → how many rows have it twice or more (the row (term, id 0) of ``knowledge_term_tf``)."""
    rows = conn.execute(
        text("SELECT term, tf FROM knowledge_term_tf WHERE id = 0 AND term IN :t").bindparams(
            bindparam("t", expanding=True)
        ),
        {"t": list(terms)},
    ).all()
    return {t: int(n) for t, n in rows}


def window_sql(bounds: Bounds, avgdl: float, tf_rows: bool) -> tuple[TextClause, dict[str, object]]:
    """One window of a shortest-first step, scored in SQL: BM25 over the step's terms. tf is 1 for a
    term no document has twice (max tf 1); else from ``knowledge_term_tf`` (``tf_rows``), or counted
    in the stored terms (separators doubled, so adjacent repeats count)."""
    norm = f"({K1} * (1 - {B} + {B} * (f.rowid >> {LENGTH_SHIFT}) / :avgdl))"
    params: dict[str, object] = {"avgdl": avgdl}
    parts, joins = [], []
    for i, (t, (m, bound)) in enumerate(bounds.items()):
        params[f"w{i}"] = bound / m  # idf · (k1 + 1)
        if m == 1:
            parts.append(f":w{i} / (1.0 + {norm})")
            continue
        if tf_rows:
            params[f"t{i}"] = t
            joins.append(f"LEFT JOIN knowledge_term_tf t{i} ON t{i}.term = :t{i} AND t{i}.id = f.rowid ")
            tf = f"coalesce(t{i}.tf, 1)"
        else:
            params[f"p{i}"], params[f"n{i}"] = f" {t} ", len(t) + 2
            tf = f"((length(s.x) - length(replace(s.x, :p{i}, ''))) / :n{i})"
        parts.append(f":w{i} * {tf} / ({tf} + {norm})")
    if not tf_rows:
        joins.append(
            "JOIN (SELECT id, ' ' || replace(terms, ' ', '  ') || ' ' AS x FROM knowledge_search) s "
            "ON s.id = f.rowid "
        )
    sql = text(
        f"SELECT f.rowid, {' + '.join(parts)} FROM knowledge_fts f {''.join(joins)}"
        "WHERE knowledge_fts MATCH :q AND f.rowid >= :after ORDER BY f.rowid LIMIT :w"
    )
    return sql, params


def top_by_length(
    conn: Connection, match: str, weight: float, avgdl: float, limit: int
) -> list[tuple[int, float]]:
    """The top ``limit`` (rowid, -bm25) of a match whose every row has each term exactly once (all
    max tf 1): bm25 is then ``weight`` (sum of idf · (k1+1)) / (1 + norm(length)), a function of the
    length in the row id, so the ``limit`` shortest rows are the top ones (equal lengths: lower rowid
    first, as ranking by bm25() breaks ties). No bm25() call at all."""
    rows = conn.execute(
        text("SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :q ORDER BY rowid LIMIT :w"),
        {"q": match, "w": limit},
    ).all()
    out = []
    for (rid,) in rows:
        norm = K1 * (1 - B + B * (int(rid) >> LENGTH_SHIFT) / avgdl)
        out.append((int(rid), -weight / (1 + norm)))
    return out


def top_shortest_first(
    conn: Connection,
    match: str,
    bounds: Bounds,
    avgdl: float,
    limit: int,
    *,
    first_window: int = FIRST_WINDOW,
    tf_rows: bool = False,
) -> list[tuple[int, float]]:
    """The top ``limit`` (rowid, -bm25) of ``match``, equal to ranking every matching row by bm25(),
    read shortest first in growing windows until the ``limit``-th best beats every unread row. A
    row's bm25 for a term is at most idf · (k1+1) · m / (m + norm(row length)), and norm grows with
    the length."""

    def unread_bound(length: int) -> float:
        norm = K1 * (1 - B + B * length / avgdl)
        return sum(b / (m + norm) for m, b in bounds.values()) * (1 + _BOUND_SLACK)

    sql, params = window_sql(bounds, avgdl, tf_rows)
    best: list[tuple[int, float]] = []
    after, window = 0, first_window
    while True:
        scored = [
            (int(r[0]), -float(r[1]))
            for r in conn.execute(sql, {**params, "q": match, "after": after, "w": window})
        ]
        best = sorted(best + scored, key=lambda kv: (kv[1], kv[0]))[:limit]
        if len(scored) < window:
            return best
        last = scored[-1][0]
        after = last + 1
        if len(best) >= limit and -best[-1][1] >= unread_bound(last >> LENGTH_SHIFT):
            return best
        window *= 2


def top_by_repeats(
    conn: Connection,
    match: str,
    bounds: Bounds,
    avgdl: float,
    limit: int,
    meta: tuple[tuple[str, ...], tuple[str, ...]],
    *,
    first_window: int = FIRST_WINDOW,
) -> list[tuple[int, float]]:
    """The top ``limit`` (rowid, -bm25) of ``match``, equal to ranking every matching row by bm25(),
    without reading the match beyond its first ``limit`` rows: a row not among them that has every
    term once is longer than each of them, so it scores no higher and ranks after them (ties go to
    the lower rowid). Only rows where a term repeats can do better, and ``knowledge_term_tf`` lists
    them shortest first for each count (index (term, tf, id)): each term's list of each count is
    read in windows (checking in SQL that the row has the other terms and passes the filters) until
    the bound at the row length reached, with that count for the term, falls below the ``limit``-th
    best. Reading per count keeps the bound tight: the many rows with a term twice stop long before
    the few with it eight times. ``meta``: the filters as (any of these meta tokens, all of these)."""
    sql, params = window_sql(bounds, avgdl, True)
    first = [
        (int(r[0]), -float(r[1])) for r in conn.execute(sql, {**params, "q": match, "after": 0, "w": limit})
    ]
    best = sorted(first, key=lambda kv: (kv[1], kv[0]))
    if len(first) < limit:
        return best  # the whole match
    seen = {rid for rid, _ in first}
    after = first[-1][0] + 1  # a matching row below this is among the first rows

    def beaten(length: int, capped: Bounds) -> bool:
        norm = K1 * (1 - B + B * length / avgdl)
        return -best[-1][1] >= sum(b / (m + norm) for m, b in capped.values()) * (1 + _BOUND_SLACK)

    for term in [t for t, (m, _) in bounds.items() if m > 1]:
        repeats, rparams = _repeats_sql(term, bounds, avgdl, meta)
        most, bound = bounds[term]
        for count in range(most, 1, -1):
            # rows where the term occurs exactly `count` times: their bound uses count, not the max
            capped = {**bounds, term: (count, bound / most * count)}
            start, window = after, first_window
            while not beaten(start >> LENGTH_SHIFT, capped):
                rows = conn.execute(repeats, {**rparams, "c": count, "after": start, "w": window}).all()
                found = [(int(r[0]), -float(r[1])) for r in rows if r[2] and int(r[0]) not in seen]
                seen.update(rid for rid, _ in found)
                best = sorted(best + found, key=lambda kv: (kv[1], kv[0]))[:limit]
                if len(rows) < window:
                    break
                start = int(rows[-1][0]) + 1
                window *= 2
    return best


def _repeats_sql(
    term: str, bounds: Bounds, avgdl: float, meta: tuple[tuple[str, ...], tuple[str, ...]]
) -> tuple[TextClause, dict[str, object]]:
    """Rows where ``term`` occurs ``:c`` times, in rowid order from ``:after``: (rowid, bm25 over the step's
    terms, whether the row matches the step: has every other term and the filters' meta tokens)."""
    norm = f"({K1} * (1 - {B} + {B} * (r.id >> {LENGTH_SHIFT}) / :avgdl))"
    params: dict[str, object] = {"avgdl": avgdl, "t": term}
    parts, joins, checks = [], [], []
    for i, (t, (m, bound)) in enumerate(bounds.items()):
        params[f"w{i}"] = bound / m
        if t == term:
            tf = "r.tf"
        elif m == 1:
            tf = "1"
        else:
            params[f"t{i}"] = t
            joins.append(f"LEFT JOIN knowledge_term_tf t{i} ON t{i}.term = :t{i} AND t{i}.id = r.id ")
            tf = f"coalesce(t{i}.tf, 1)"
        parts.append(f":w{i} * {tf} / ({tf} + {norm})")
        if t != term:
            params[f"o{i}"] = f" {t} "
            checks.append(f"instr(' ' || s.terms || ' ', :o{i}) > 0")
    any_of, all_of = meta
    if any_of:
        params.update({f"a{j}": f" {tok} " for j, tok in enumerate(any_of)})
        checks.append(
            "(" + " OR ".join(f"instr(' ' || s.meta || ' ', :a{j}) > 0" for j in range(len(any_of))) + ")"
        )
    for j, tok in enumerate(all_of):
        params[f"r{j}"] = f" {tok} "
        checks.append(f"instr(' ' || s.meta || ' ', :r{j}) > 0")
    ok = " AND ".join(checks) or "1"
    sql = text(
        f"SELECT r.id, {' + '.join(parts)}, {ok} FROM knowledge_term_tf r "
        f"JOIN knowledge_search s ON s.id = r.id {''.join(joins)}"
        "WHERE r.term = :t AND r.tf = :c AND r.id >= :after ORDER BY r.id LIMIT :w"
    )
    return sql, params
