"""Every *Create / *Update request schema refuses what its table column cannot hold (issue 10, finding 3):
null for a NOT NULL column, and strings longer than the column."""

from __future__ import annotations

import importlib
import inspect

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import String

from crm.models import AccidentReport, Center, ChannelAccount, Message, Note, Ticket, User
from knowledge.models import KnowledgeDocument, LabelFeedback
from routing.models import Offer, Presence

# crm.admin_schemas (centers, users, channel accounts; another change in progress) still lets null through
# to its services: add it here once its *Update fields use crm.schemas.Omittable.
MODULES = ("crm.schemas", "crm.accident_api", "routing.api", "knowledge.api")
# request schema -> (table, {schema field: column} where the names differ)
TABLE_OF: dict[str, tuple[type, dict[str, str]]] = {
    "TicketUpdate": (Ticket, {}),
    "ReplyCreate": (Message, {}),
    "NoteCreate": (Note, {}),
    "UserCreate": (User, {}),
    "UserUpdate": (User, {}),
    "CenterCreate": (Center, {}),
    "CenterUpdate": (Center, {}),
    "ChannelCreate": (ChannelAccount, {}),
    "ChannelUpdate": (ChannelAccount, {}),
    "AccidentReportUpdate": (AccidentReport, {}),
    "NotifiedBody": (AccidentReport, {"method": "notification_method"}),
    "PresenceUpdate": (Presence, {}),
    "DeclineBody": (Offer, {}),
    "TransferCreate": (Note, {"reason": "body"}),
    "DocumentCreate": (KnowledgeDocument, {"id": "doc_id"}),
    "FeedbackIn": (LabelFeedback, {}),
}
NOT_SCHEMAS = {"Strict"}


def _request_schemas() -> list[tuple[str, type[BaseModel]]]:
    found: dict[str, type[BaseModel]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
                and (attr.endswith(("Create", "Update", "Body", "In")))
                and attr not in NOT_SCHEMAS
            ):
                found[f"{name}.{attr}"] = obj
    return sorted(found.items())


SCHEMAS = _request_schemas()


def _errors_at(schema: type[BaseModel], field: str, value: object) -> list[dict]:
    try:
        schema.model_validate({field: value})
    except ValidationError as exc:
        return [e for e in exc.errors() if e["loc"][:1] == (field,)]
    return []


def test_every_request_schema_has_a_table() -> None:
    unmapped = [q for q, _ in SCHEMAS if q.rsplit(".", 1)[1] not in TABLE_OF]
    assert not unmapped, f"map these request schemas to their table in TABLE_OF: {unmapped}"


@pytest.mark.parametrize(("qualname", "schema"), SCHEMAS, ids=[q for q, _ in SCHEMAS])
def test_schema_refuses_what_the_column_cannot_hold(qualname: str, schema: type[BaseModel]) -> None:
    table, renames = TABLE_OF[qualname.rsplit(".", 1)[1]]
    columns = table.__table__.columns  # type: ignore[attr-defined]
    problems = []
    for field, info in schema.model_fields.items():
        column = columns.get(renames.get(field, field))
        if column is None:
            continue
        if not column.nullable and not _errors_at(schema, field, None):
            problems.append(f"{field}: accepts null but {table.__name__}.{column.name} is NOT NULL")
        length = getattr(column.type, "length", None)
        if isinstance(column.type, String) and length and not _errors_at(schema, field, "x" * (length + 1)):
            problems.append(
                f"{field}: accepts {length + 1} characters, {table.__name__}.{column.name} holds {length}"
            )
        del info
    assert not problems, problems
