"""Users: login and creation."""

from __future__ import annotations

from sqlmodel import Session, select

from crm.errors import BadRequest, Conflict, Unauthorized
from crm.models import Center, Role, User
from crm.security import hash_password, verify_password

# Verifying against a dummy hash when the user does not exist keeps login timing uniform.
_DUMMY_HASH = hash_password("not-a-real-password")


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized("wrong username or password")
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise Unauthorized("wrong username or password")
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
