"""A consumer's display name and language from the channel, kept on the identity (never on the case
record) and fetched once per identity; channels.jobs asks the adapter and calls these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from crm.models import ContactIdentity, utcnow


@dataclass(frozen=True)
class ProfileWanted:
    identity_id: int
    channel: str
    external_id: str


def profile_wanted(engine: Engine, identity_id: int) -> ProfileWanted | None:
    """The identity if its profile was never fetched."""
    with Session(engine) as session:
        identity = session.get(ContactIdentity, identity_id)
        if identity is None or identity.profile_fetched_at is not None:
            return None
        return ProfileWanted(identity_id, identity.channel, identity.external_id)


def record_profile(
    engine: Engine, identity_id: int, *, display_name: str | None, language: str | None
) -> None:
    """Keep what the channel said (or, with both None, that it had nothing to say)."""
    changes: dict[str, object] = {"profile_fetched_at": utcnow()}
    if display_name is not None or language is not None:
        changes["display_name"] = (display_name or "")[:200] or None
        changes["language"] = (language or "")[:16] or None
    with engine.begin() as conn:
        conn.execute(update(ContactIdentity).where(col(ContactIdentity.id) == identity_id).values(**changes))
