"""Users: login and creation.

Login never holds a write transaction while it hashes (Argon2 takes tens of milliseconds of CPU, and
on SQLite every transaction holds the database's write lock): the user is read and the transaction
ended, the password is verified outside any transaction, then the throttle and audit rows are written
in one short transaction.
"""

from __future__ import annotations

from sqlmodel import Session, select

from crm.audit import write_audit
from crm.errors import BadRequest, Conflict, Unauthorized
from crm.login_throttle import LoginThrottle
from crm.models import Center, Role, User
from crm.security import hash_password, verify_password

# Verifying against a dummy hash when the user does not exist keeps login timing uniform.
_DUMMY_HASH = hash_password("not-a-real-password")
WRONG_CREDENTIALS = "wrong username or password"


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with this username and password (Unauthorized otherwise).

    The session's transaction is ended (rolled back) before hashing, so call it with a session that
    has nothing pending.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("authenticate() needs a session without pending changes")
    user = session.exec(select(User).where(User.username == username)).first()
    if user is not None:
        session.expunge(user)
    session.rollback()  # release the read transaction (SQLite: the write lock) before hashing
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized(WRONG_CREDENTIALS)
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise Unauthorized(WRONG_CREDENTIALS)
    return session.merge(user, load=False)


def log_in(
    session: Session, throttle: LoginThrottle, *, username: str, password: str, ip: str | None
) -> User:
    """Check the throttle, then the password; count and audit the outcome (429/401 on failure)."""
    throttle.check(session, username, ip)
    try:
        user = authenticate(session, username, password)
    except Unauthorized:
        throttle.failed(session, username, ip)
        write_audit(
            session, actor_id=None, action="auth.login_failed", object_type="user", object_id=username[:64]
        )
        session.commit()
        raise
    throttle.succeeded(session, username, ip)
    write_audit(session, actor_id=user.id, action="auth.login", object_type="user", object_id=user.id or 0)
    session.commit()
    return user


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    center_code: str | None,
    display_name: str = "",
    skills: list[str] | None = None,
    languages: list[str] | None = None,
    qualifications: list[str] | None = None,
    capacity: dict[str, int] | None = None,
) -> User:
    """Create a user; counselors and supervisors must belong to a center."""
    if len(password) < 8:
        raise BadRequest("the password must have at least 8 characters")
    center_id = None
    if center_code:
        center = session.exec(select(Center).where(Center.code == center_code)).first()
        if center is None:
            raise BadRequest(f"no center with code {center_code!r}; see GET /api/centers or `madoguchi demo`")
        center_id = center.id
    elif role != Role.ADMIN:
        raise BadRequest(f"a {role.value} needs a center: pass --center CODE")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        center_id=center_id,
        display_name=display_name or username,
        skills=skills or [],
        languages=languages or ["ja"],
        qualifications=qualifications or [],
        capacity=capacity or {"voice": 1, "line": 3, "email": 5},
    )
    session.add(user)
    session.commit()
    return user
