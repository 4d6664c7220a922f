"""Sites and users: who may label, review and administer, with passwords hashed by Argon2 (argon2-cffi).

A site holds the check value of its secret (`secret_check`), not the secret: an import that
brings another secret is refused before it could file a known patient under a second pseudonym.
The secret itself stays at the site: it is read from a file or an environment variable, never
from a command line (where other users of the machine would see it).
"""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from semiology.pseudonyms import pseudonym
from semiology.store.errors import StoreError
from semiology.store.schema import Site, User
from semiology.store.vocabulary import ROLES

SECRET_ENV = "SEMIOLOGY_SITE_SECRET"
PASSWORD_ENV = "SEMIOLOGY_PASSWORD"
MIN_PASSWORD_CHARS = 10
MIN_SECRET_BYTES = 16
_SECRET_CHECK_INPUT = "semiology site secret check"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (with its own random salt), refusing passwords shorter than `MIN_PASSWORD_CHARS`."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise StoreError(f"password too short: at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise StoreError(f"{kind} name {name!r}: use 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit")


def secret_check(secret: bytes) -> str:
    """The value a site stores to recognise its secret: a keyed hash of a fixed text, which does not reveal the secret."""
    return pseudonym(_SECRET_CHECK_INPUT, secret)


def read_secret(path: str | Path | None) -> bytes:
    """The site secret from a file (surrounding whitespace removed) or, without one, from $SEMIOLOGY_SITE_SECRET."""
    if path is not None:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise StoreError(f"{path}: cannot read the site secret ({exc.strerror})") from None
        where = str(path)
    else:
        secret = os.environ.get(SECRET_ENV, "").strip().encode("utf-8")
        where = f"${SECRET_ENV}"
        if not secret:
            raise StoreError(f"no site secret: give --secret-file FILE or set ${SECRET_ENV}")
    if len(secret) < MIN_SECRET_BYTES:
        raise StoreError(f"{where}: the site secret is too short ({len(secret)} bytes; at least {MIN_SECRET_BYTES}, e.g. from: python -c 'import secrets; print(secrets.token_hex(32))')")
    return secret


def add_site(session: Session, name: str, secret: bytes) -> Site:
    """A new site recognising `secret`."""
    _check_name("site", name)
    if session.scalar(select(Site).where(Site.name == name)) is not None:
        raise StoreError(f"site {name!r} exists already")
    site = Site(name=name, secret_check=secret_check(secret))
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, name: str) -> Site:
    """The site called `name`; a StoreError lists the sites there are."""
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        names = session.scalars(select(Site.name).order_by(Site.name)).all()
        raise StoreError(f"no site {name!r} in the store (sites: {', '.join(names) or 'none; add one with tools/store.py add-site'})")
    return site


def check_site_secret(site: Site, secret: bytes) -> None:
    """Refuse a secret that is not the one the site was created with."""
    if not hmac.compare_digest(site.secret_check, secret_check(secret)):
        raise StoreError(f"site {site.name!r}: this is not the site's secret; with another secret its patients would get other pseudonyms")


def count_users(session: Session) -> int:
    """How many users the store has."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def add_user(session: Session, username: str, role: str, password: str, site: Site | None = None) -> User:
    """A new user with a role (annotator, reviewer, admin) and a hashed password."""
    _check_name("user", username)
    if role not in ROLES:
        raise StoreError(f"user {username!r}: unknown role {role!r} (roles: {', '.join(ROLES)})")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise StoreError(f"user {username!r} exists already")
    user = User(username=username, role=role, password_hash=hash_password(password), site_id=None if site is None else site.id, active=True)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    """The active user called `username`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise StoreError(f"no active user {username!r} in the store (add one with tools/store.py add-user)")
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user whose password this is; one message for an unknown user and a wrong password, so neither can be probed.

    A hash made with older Argon2 parameters is replaced by one with the current parameters.
    """
    user = session.scalar(select(User).where(User.username == username))
    failure = StoreError("unknown user or wrong password")
    if user is None or not user.active:
        raise failure
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password (the audit log records that it changed, not the hash)."""
    user.password_hash = hash_password(password)
    session.flush()


def require_role(user: User, roles: tuple[str, ...], action: str) -> None:
    """Refuse `action` to a user whose role is not one of `roles`."""
    if user.role not in roles:
        raise StoreError(f"user {user.username!r} ({user.role}) may not {action}: needs the role {' or '.join(roles)}")
