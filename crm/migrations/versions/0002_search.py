"""search index: SQLite FTS5 or PostgreSQL tsvector + GIN (non-ORM DDL, dialect-aware)

Revision ID: 0002_search
Revises: 0001

The index holds pre-tokenized terms (knowledge.text); see knowledge/store_sqlite.py and
knowledge/store_postgres.py for how it is written and queried.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_search"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    """CREATE TABLE IF NOT EXISTS knowledge_search (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        center_id INTEGER,
        terms TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT ''
    )""",
    # External-content FTS5 over knowledge_search.terms (+ meta: kind/center tokens used as MATCH
    # filters, weight 0 in bm25); the 'ascii' tokenizer keeps every non-ASCII run whole, so
    # Sudachi's terms are indexed exactly as the analyzer produced them.
    """CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts USING fts5(
        terms, meta, content='knowledge_search', content_rowid='id', tokenize='ascii'
    )""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts_vocab USING fts5vocab(knowledge_fts, 'row')",
    # Document frequency per term, kept by the store on every write: fts5vocab has to read a
    # term's whole doclist to count it (tens of ms for common terms at 100k documents).
    """CREATE TABLE IF NOT EXISTS knowledge_search_df (
        term TEXT PRIMARY KEY, df INTEGER NOT NULL
    ) WITHOUT ROWID""",
)
SQLITE_DOWN = (
    "DROP TABLE IF EXISTS knowledge_search_df",
    "DROP TABLE IF EXISTS knowledge_fts_vocab",
    "DROP TABLE IF EXISTS knowledge_fts",
    "DROP TABLE IF EXISTS knowledge_search",
)
PG_UP = (
    # tsv: a tsvector literal built from our own terms (no text-search parser); tf_multi: {term: tf}
    # for the terms a document has more than once (others it contains have tf 1), read by BM25.
    """CREATE TABLE IF NOT EXISTS knowledge_search (
        doc_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        center_id INTEGER,
        doc_len INTEGER NOT NULL,
        tsv TSVECTOR NOT NULL,
        tf_multi JSONB NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_search_tsv ON knowledge_search USING GIN (tsv)",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_search_kind ON knowledge_search (kind)",
    # Document frequency per term and the collection size, kept by the store on every write:
    # counting a term's postings through the GIN index costs ~12 ms per term at 100k documents.
    """CREATE TABLE IF NOT EXISTS knowledge_search_df (
        term TEXT PRIMARY KEY, df INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS knowledge_search_stats (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        n_docs BIGINT NOT NULL,
        total_len BIGINT NOT NULL
    )""",
)
PG_DOWN = (
    "DROP TABLE IF EXISTS knowledge_search_stats",
    "DROP TABLE IF EXISTS knowledge_search_df",
    "DROP TABLE IF EXISTS knowledge_search",
)


def upgrade() -> None:
    statements = SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN
    for sql in statements:
        op.execute(sql)
