"""The review web app: FastAPI routes over the label store, pages and scripts served from the package.

Every route but the login page, its script and style, `GET /api/session` and `POST /api/login`
needs a signed-in session; every write needs the session's CSRF token (`security`). Roles are
the store's (`store.labels`, `store.editing`): the server enforces them, the page only hides
buttons. Seizures of another site answer 403 before anything about them is read. Store errors
answer 400 with their message, version conflicts 409 with the label as it is now.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from semiology.errors import SemiologyError
from semiology.review.errors import ReviewError
from semiology.review.media import playable
from semiology.review.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, confined, csrf_matches, may_see, new_csrf_token
from semiology.review.views import Roots, attribution_strip, corrected, keypoints_view, seizure_list, seizure_view, user_view, video_recording, visible_sites
from semiology.store.accounts import authenticate
from semiology.store.database import Store
from semiology.store.editing import VersionConflict, delete_versioned, edit_versioned, label_view, review_versioned
from semiology.store.errors import StoreError
from semiology.store.labels import SignSpan, add_keypoint_correction, add_sign_label
from semiology.store.schema import Seizure, SignLabel, User

STATIC = files("semiology.review") / "static"
SESSION_HOURS = 12
OPEN_PATHS: frozenset[str] = frozenset({"/login", "/api/session", "/api/login"})
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass
class ReviewSettings:
    """What the app serves: the store, the file roots, and the key that signs session cookies."""

    store: Store
    roots: Roots
    session_secret: str
    https_only: bool = False


class Credentials(BaseModel):
    username: str = Field(max_length=80)
    password: str = Field(max_length=1024)


class SpanIn(BaseModel):
    term: str = Field(max_length=60)
    start_s: float
    end_s: float
    side: str | None = None
    region: str | None = None
    confidence: float | None = None

    def span(self) -> SignSpan:
        return SignSpan(self.term, self.start_s, self.end_s, self.side, self.region, self.confidence)


class EditIn(SpanIn):
    version: int


class ReviewIn(BaseModel):
    version: int
    accept: bool


class CorrectionIn(BaseModel):
    frame: int
    layout: str = Field(max_length=60)
    joint: str = Field(max_length=60)
    x: float
    y: float


def create_app(settings: ReviewSettings) -> FastAPI:
    """The app for one store and its file roots."""
    app = FastAPI(title="semiology review", docs_url=None, redoc_url=None, openapi_url=None)
    store, roots = settings.store, settings.roots

    @contextmanager
    def signed_in(request: Request) -> Iterator[tuple[Session, User]]:
        """One transaction as the session's user, committed before the response is sent (an acknowledged write is stored)."""
        with store.session(actor=request.session.get("user")) as session:
            user_id = request.session.get("user_id")
            user = None if user_id is None else session.get(User, user_id)
            if user is None or not user.active:
                raise HTTPException(401, "sign in first")
            yield session, user

    def visible_seizure(seizure_id: int, session: Session, user: User) -> Seizure:
        seizure = session.get(Seizure, seizure_id)
        if seizure is None:
            raise HTTPException(404, f"no seizure {seizure_id}")
        if not may_see(session, user, seizure):
            raise HTTPException(403, f"seizure {seizure_id} belongs to another site; user {user.username!r} may not open it")
        return seizure

    def visible_label(label_id: int, session: Session, user: User) -> SignLabel | None:
        label = session.get(SignLabel, label_id)
        if label is not None:
            visible_seizure(label.seizure_id, session, user)
        return label

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if request.method not in SAFE_METHODS and not csrf_matches(request.session.get("csrf"), request.headers.get(CSRF_HEADER)):
            response: Response = JSONResponse({"detail": f"missing or wrong {CSRF_HEADER} header: reload the page"}, status_code=403)
        elif "user_id" not in request.session and not (path in OPEN_PATHS or path.startswith("/static/")):
            if path.startswith("/api/"):
                response = JSONResponse({"detail": "sign in first"}, status_code=401)
            else:
                response = RedirectResponse("/login", status_code=303)
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret, session_cookie=SESSION_COOKIE, max_age=SESSION_HOURS * 3600,
                       same_site="strict", https_only=settings.https_only)

    @app.exception_handler(VersionConflict)
    def conflict(_request: Request, exc: VersionConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "current": exc.current}, status_code=409)

    @app.exception_handler(SemiologyError)
    def refused(_request: Request, exc: SemiologyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403 if "may not" in str(exc) else 400)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def page(name: str) -> FileResponse:
        return FileResponse(str(STATIC / name), media_type="text/html")

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return page("login.html")

    @app.get("/", include_in_schema=False)
    def list_page() -> FileResponse:
        return page("index.html")

    @app.get("/seizures/{seizure_id}", include_in_schema=False)
    def seizure_page(seizure_id: int) -> FileResponse:
        return page("seizure.html")

    @app.get("/api/session")
    def session_info(request: Request) -> dict[str, Any]:
        if "csrf" not in request.session:
            request.session["csrf"] = new_csrf_token()
        with store.session() as session:
            user = None if "user_id" not in request.session else session.get(User, request.session["user_id"])
            return {"csrf": request.session["csrf"], "user": None if user is None else user_view(session, user)}

    @app.post("/api/login")
    def login(credentials: Credentials, request: Request) -> dict[str, Any]:
        with store.session(actor=credentials.username) as session:
            try:
                user = authenticate(session, credentials.username, credentials.password)
            except StoreError as exc:
                raise HTTPException(401, str(exc)) from None
            request.session.clear()
            request.session.update({"user_id": user.id, "user": user.username, "csrf": new_csrf_token()})
            return {"csrf": request.session["csrf"], "user": user_view(session, user)}

    @app.post("/api/logout")
    def logout(request: Request) -> dict[str, bool]:
        request.session.clear()
        return {"ok": True}

    @app.get("/api/sites")
    def sites(request: Request) -> list[str]:
        with signed_in(request) as (session, user):
            return visible_sites(session, user)

    @app.get("/api/seizures")
    def seizures(request: Request, site: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        with signed_in(request) as (session, user):
            return seizure_list(session, user, site, status)

    @app.get("/api/seizures/{seizure_id}")
    def seizure(seizure_id: int, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            return seizure_view(session, visible_seizure(seizure_id, session, user), roots)

    @app.get("/api/seizures/{seizure_id}/keypoints")
    def keypoints(seizure_id: int, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            return keypoints_view(corrected(session, visible_seizure(seizure_id, session, user), roots))

    @app.get("/api/seizures/{seizure_id}/attribution")
    def attribution(seizure_id: int, model: str, start_s: float, end_s: float, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            return attribution_strip(visible_seizure(seizure_id, session, user), roots, model, start_s, end_s)

    @app.get("/api/seizures/{seizure_id}/video")
    def video(seizure_id: int, request: Request) -> FileResponse:
        with signed_in(request) as (session, user):
            found = visible_seizure(seizure_id, session, user)
            recording = video_recording(session, found)
            if recording is None:
                raise HTTPException(404, f"seizure {found.seizure_key!r} has no video")
            key, modality, fps, path = found.seizure_key, recording.modality, recording.fps, recording.path
        source = next((resolved for root in roots.videos if (resolved := confined(root, path)) is not None), None)
        if source is None:
            raise HTTPException(403, f"seizure {key!r}: its {modality} recording lies outside the video folders; it is not served")
        return FileResponse(str(playable(source, modality, roots.previews, fps)), media_type="video/mp4")

    @app.post("/api/seizures/{seizure_id}/labels", status_code=201)
    def add_label(seizure_id: int, body: SpanIn, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            return label_view(add_sign_label(session, visible_seizure(seizure_id, session, user), body.span(), annotator=user))

    @app.put("/api/labels/{label_id}")
    def edit_label(label_id: int, body: EditIn, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            visible_label(label_id, session, user)
            return label_view(edit_versioned(session, label_id, body.version, user, body.span()))

    @app.post("/api/labels/{label_id}/review")
    def review_label(label_id: int, body: ReviewIn, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            visible_label(label_id, session, user)
            return label_view(review_versioned(session, label_id, body.version, user, body.accept))

    @app.delete("/api/labels/{label_id}")
    def delete_label(label_id: int, version: int, request: Request) -> dict[str, bool]:
        with signed_in(request) as (session, user):
            visible_label(label_id, session, user)
            delete_versioned(session, label_id, version, user)
            return {"deleted": True}

    @app.post("/api/seizures/{seizure_id}/corrections", status_code=201)
    def add_correction(seizure_id: int, body: CorrectionIn, request: Request) -> dict[str, Any]:
        with signed_in(request) as (session, user):
            found = visible_seizure(seizure_id, session, user)
            correction = add_keypoint_correction(session, found, body.frame, body.layout, body.joint, (body.x, body.y), user)
            return {"id": correction.id, "frame": correction.frame, "layout": correction.layout, "joint": correction.joint,
                    "x": correction.x, "y": correction.y}

    return app


def check_roots(cache: Path, videos: list[Path]) -> Roots:
    """The app's file roots, each an existing folder; a ReviewError names the one that is not."""
    for folder in (cache, *videos):
        if not folder.is_dir():
            raise ReviewError(f"{folder}: not a folder (the review app serves files only from existing folders)")
    return Roots(cache=cache.resolve(), videos=tuple(folder.resolve() for folder in videos))
