"""Prefill of the consultation record (相談記録) from the conversation (issue #16).

:func:`prefill_record` is pure (knowledge/record_fill/extract.py); :mod:`knowledge.record_fill.service`
reads a ticket's conversation from the database. Values are suggestions: crm stores a field only
when a counselor accepts it.
"""

from knowledge.record_fill.extract import FIELDS, ConversationMessage, FieldSuggestion, prefill_record

__all__ = ["FIELDS", "ConversationMessage", "FieldSuggestion", "prefill_record"]
