"""Administration of users (role, center, skills, languages, qualifications, capacity, active): audited.

Refusals are :class:`Unprocessable` naming the field. The last active admin cannot be demoted or
deactivated (nobody could administer the deployment any more). Passwords are hashed before anything
else; the hash is hashed outside the write transaction (Argon2 takes tens of milliseconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from crm.audit import write_audit
from crm.errors import Conflict, NotFound, Unprocessable
from crm.messaging import ChannelKind
from crm.models import Center, Role, User
from crm.security import hash_password

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MIN_PASSWORD = 8
EDITABLE = (
    "display_name",
    "role",
    "center_id",
    "skills",
    "languages",
    "qualifications",
    "capacity",
    "is_active",
    "password",
)


def list_users(
    session: Session, *, center_id: int | None = None, role: Role | None = None, active: bool | None = None
) -> Sequence[User]:
    query = select(User).order_by(col(User.username))
    if center_id is not None:
        query = query.where(User.center_id == center_id)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active == active)
    return session.exec(query).all()


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}; see GET /api/users or `madoguchi user list`")
    return user


def find_user(session: Session, *, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}; see `madoguchi user list`")
    return user


def add_user(
    session: Session, *, username: str, password: str, actor_id: int | None = None, **fields: Any
) -> User:
    """Create a user; ``fields`` are any of :data:`EDITABLE` (the password is its own argument)."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise Unprocessable(
            "username: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    password_hash = _password_hash(password)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"username: user {username!r} already exists")
    user = User(
        username=username,
        password_hash=password_hash,
        display_name=username,
        languages=["ja"],
        capacity={"voice": 1, "line": 3, "email": 5},
    )
    _apply(session, user, fields)
    session.add(user)
    session.flush()
    write_audit(
        session,
        actor_id=actor_id,
        action="user.create",
        object_type="user",
        object_id=user.id or 0,
        detail={"username": username, "role": user.role.value, "center_id": user.center_id},
    )
    session.commit()
    return user


def update_user(session: Session, *, user_id: int, actor_id: int | None = None, **changes: Any) -> User:
    """Change any of :data:`EDITABLE`; a new ``password`` is hashed, never stored or audited in clear."""
    password_hash = _password_hash(changes.pop("password")) if "password" in changes else None
    user = get_user(session, user_id=user_id)
    was_admin = user.role == Role.ADMIN and user.is_active
    before = {k: _plain(getattr(user, k)) for k in changes if k in EDITABLE}
    try:
        _apply(session, user, changes)
    except Unprocessable:
        session.rollback()  # nothing half-changed may ride on a later commit
        raise
    if password_hash is not None:
        user.password_hash = password_hash
    if was_admin:
        _keep_an_admin(session, user)
    session.add(user)
    detail: dict[str, Any] = {"before": before, "after": {k: _plain(getattr(user, k)) for k in before}}
    if password_hash is not None:
        detail["password_changed"] = True
    write_audit(
        session, actor_id=actor_id, action="user.update", object_type="user", object_id=user_id, detail=detail
    )
    session.commit()
    return user


def _apply(session: Session, user: User, changes: Mapping[str, Any]) -> None:
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise Unprocessable(f"{unknown[0]}: unknown field (editable: {', '.join(EDITABLE)})")
    for key, value in changes.items():
        if key == "display_name":
            user.display_name = _display_name(value)
        elif key == "role":
            user.role = _role(value)
        elif key == "center_id":
            user.center_id = _center_id(session, value)
        elif key in ("skills", "qualifications"):
            setattr(user, key, _labels(key, value))
        elif key == "languages":
            user.languages = _languages(value)
        elif key == "capacity":
            user.capacity = _capacity(value)
        elif key == "is_active":
            if not isinstance(value, bool):
                raise Unprocessable("is_active: must be true or false")
            user.is_active = value
    if user.role != Role.ADMIN and user.center_id is None:
        raise Unprocessable(f"center_id: a {user.role.value} belongs to a center")


def _keep_an_admin(session: Session, user: User) -> None:
    if user.role == Role.ADMIN and user.is_active:
        return
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, col(User.is_active).is_(True), User.id != user.id)
    ).one()
    if not others:
        session.rollback()
        raise Conflict(f"{user.username} is the last active admin: make another admin first")


def _password_hash(password: Any) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Unprocessable(f"password: must have at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise Unprocessable("password: at most 256 characters")
    return hash_password(password)


def _display_name(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise Unprocessable("display_name: a string of at most 100 characters")
    return value.strip()


def _role(value: Any) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Unprocessable(f"role: {value!r} is not one of {', '.join(r.value for r in Role)}") from None


def _center_id(session: Session, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or session.get(Center, value) is None:
        raise Unprocessable(f"center_id: no center with id {value!r}")
    return value


def _labels(field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 30:
        raise Unprocessable(f"{field}: must be a list of at most 30 names")
    cleaned: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > 64:
            raise Unprocessable(f"{field}[{i}]: must be a non-empty name of at most 64 characters")
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    return cleaned


def _languages(value: Any) -> list[str]:
    langs = _labels("languages", value)
    for i, lang in enumerate(langs):
        if not LANGUAGE.match(lang):
            raise Unprocessable(f"languages[{i}]: {lang!r} is not a language code like ja, en, zh-Hant")
    return langs


def _capacity(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise Unprocessable('capacity: must be an object like {"voice": 1, "line": 3, "email": 5}')
    kinds = [k.value for k in ChannelKind]
    for key, limit in value.items():
        if key not in kinds:
            raise Unprocessable(f"capacity.{key}: unknown channel (known: {', '.join(kinds)})")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 50:
            raise Unprocessable(f"capacity.{key}: must be a whole number between 0 and 50")
    return dict(value)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Role) else value
