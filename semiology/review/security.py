"""Who may see and change what in the review app: sessions, CSRF tokens, site isolation and confined file paths.

Sessions are Starlette's signed cookies (itsdangerous): HttpOnly always, SameSite=Strict, Secure
when the app is served over HTTPS. The cookie carries only the user's id, the CSRF token and a
login time; every request reloads the user from the store, so a deactivated account is locked out
at once. Every write must carry the session's CSRF token in the `X-CSRF-Token` header (a page
of another origin can neither read the token nor set the header). Annotators and reviewers see
only their own site's patients; admins see every site. Files are served only from inside the
configured roots: a path is resolved (links followed) before it is compared with a root.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from sqlalchemy.orm import Session

from semiology.store.schema import Patient, Seizure, User

SESSION_COOKIE = "semiology_review"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_csrf_token() -> str:
    """A fresh unguessable token for one session."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Whether the header's token is the session's (compared in constant time)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def sees_every_site(user: User) -> bool:
    """Admins see every site; everybody else only their own (a user of no site sees none)."""
    return user.role == "admin"


def may_see(session: Session, user: User, seizure: Seizure) -> bool:
    """Whether `user` may open `seizure` (its patient belongs to the user's site)."""
    if sees_every_site(user):
        return True
    patient = session.get(Patient, seizure.patient_id)
    return patient is not None and user.site_id is not None and patient.site_id == user.site_id


def confined(root: Path, path: str | Path) -> Path | None:
    """`path` (relative to `root` or absolute) resolved, when it lies inside `root`; None when it escapes it."""
    base = root.resolve()
    candidate = Path(path)
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    return resolved if resolved.is_relative_to(base) else None
