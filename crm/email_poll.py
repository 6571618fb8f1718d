"""The IMAP poller's position per (email account, folder): UIDVALIDITY and the last stored UID.

crm owns the row; channels/email/imap.py reads it before a poll and advances it after each mail is
stored, so a restart never fetches a mail twice (and a changed UIDVALIDITY starts the folder over;
the Message-ID keeps that idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm.models import EmailPollState, utcnow


@dataclass(frozen=True)
class PollPosition:
    uidvalidity: int
    last_uid: int


def get_position(engine: Engine, account_id: int, folder: str) -> PollPosition:
    """Where polling stopped; (0, 0) before the first poll."""
    with Session(engine) as session:
        row = session.get(EmailPollState, (account_id, folder))
        return PollPosition(row.uidvalidity, row.last_uid) if row else PollPosition(0, 0)


def save_position(engine: Engine, account_id: int, folder: str, *, uidvalidity: int, last_uid: int) -> None:
    """Remember the folder's UIDVALIDITY and the last UID stored (committed)."""
    if uidvalidity < 0 or last_uid < 0:
        raise ValueError("uidvalidity and last_uid are unsigned IMAP numbers")
    with Session(engine) as session:
        row = session.get(EmailPollState, (account_id, folder))
        if row is None:
            row = EmailPollState(channel_account_id=account_id, folder=folder)
        row.uidvalidity = uidvalidity
        row.last_uid = last_uid
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
