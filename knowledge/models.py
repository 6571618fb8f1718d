"""Tables of the knowledge base: documents, counselor label feedback, learned term weights, embeddings.

The search index itself is not an ORM table: it is raw DDL (SQLite FTS5 / PostgreSQL tsvector + GIN)
created by crm/migrations/versions/0002_search.py and maintained by knowledge/store_*.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from crm.models import utcnow


class DocumentKind(StrEnum):
    CASE = "case"
    FAQ = "faq"
    ADVICE = "advice"
    LAW = "law"
    REFERENCE = "reference"


class KnowledgeDocument(SQLModel, table=True):
    """A searchable document. ``center_id`` None = visible to every center as is; a center's own
    documents (past cases) are shown PII-masked to the other centers."""

    __tablename__ = "knowledge_document"

    id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16, index=True)
    title: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    center_id: int | None = Field(default=None, foreign_key="center.id", index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source_ticket_id: int | None = Field(default=None, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class LabelFeedback(SQLModel, table=True):
    """A counselor's answer to a category suggestion: what was suggested and what they chose."""

    __tablename__ = "knowledge_label_feedback"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    field: str = Field(max_length=32)  # product_category | sales_method | content_keywords
    suggested: str | None = Field(default=None, max_length=64)
    chosen: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class TermLabelWeight(SQLModel, table=True):
    """Learned evidence: how strongly a term points to a label (updated on every correction)."""

    __tablename__ = "knowledge_term_label_weight"

    term: str = Field(primary_key=True, max_length=128)
    field: str = Field(primary_key=True, max_length=32)
    label: str = Field(primary_key=True, max_length=64)
    weight: float = 0.0


class KnowledgeEmbedding(SQLModel, table=True):
    """Dense vector of a document for the optional semantic search (float32 bytes)."""

    __tablename__ = "knowledge_embedding"

    doc_id: str = Field(primary_key=True, max_length=128)
    model: str = Field(max_length=128)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class SearchTermMaxTf(SQLModel, table=True):
    """The largest count of a term in one indexed document, kept only for terms some document has
    more than once (absent: 1). It only grows, so it stays an upper bound after deletes: the SQLite
    store's large-index plan (knowledge/store_sqlite.py) bounds the BM25 of documents it has not read."""

    __tablename__ = "knowledge_term_max_tf"

    term: str = Field(primary_key=True)
    max_tf: int = 1


class SearchTermTf(SQLModel, table=True):
    """A term's count in one indexed row, kept only where it is 2 or more (absent: 1), so the SQLite
    store scores a row without reading its text (knowledge/sqlite_shortest_first.py). ``id`` is the
    row id in ``knowledge_search``. Rows with id 0: (term, 0, n) counts the rows repeating the term
    (the scorer's cost estimate); ('', 0, 0) marks an index whose every row is recorded here. The
    (term, tf, id) index lists a term's rows of one count shortest first."""

    __tablename__ = "knowledge_term_tf"
    __table_args__ = (Index("ix_knowledge_term_tf_count", "term", "tf", "id"), {"sqlite_with_rowid": False})

    term: str = Field(primary_key=True)
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    tf: int = 2


class SelfHelpSetting(SQLModel, table=True):
    """A center's opt-in to self-help while waiting (knowledge.self_help); no row = off."""

    __tablename__ = "knowledge_self_help_setting"

    center_id: int = Field(primary_key=True, foreign_key="center.id")
    enabled: bool = False
    min_queue_position: int = Field(default=3, ge=1, le=1000)  # place in the queue that counts as long
    updated_at: datetime = Field(default_factory=utcnow)


class SelfHelpSent(SQLModel, table=True):
    """The one self-help answer a ticket got (the primary key keeps it to one per ticket)."""

    __tablename__ = "knowledge_self_help_sent"

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")
    reason: str = Field(max_length=16)  # after_hours | long_queue
    doc_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message_id: int | None = Field(default=None, foreign_key="message.id")
    sent_at: datetime = Field(default_factory=utcnow)
