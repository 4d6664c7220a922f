"""`tools/review.py`: serve the review app, seed and serve the demo, or write a corrected keypoint cache.

    tools/review.py --db URL --cache DIR [--videos DIR ...] [--host 127.0.0.1 --port 8000]
    tools/review.py seed-demo --out DIR [--subjects 3 --frames 120 --bundle DIR]
    tools/review.py demo --out DIR [--port 8000]              (seed-demo, then serve it)
    tools/review.py apply-corrections --db URL --cache DIR --out DIR

Exit status 0 on success, 1 when `apply-corrections` wrote some records but found no cache file
of others (listed), 2 when the input is unusable (a store, folder or file refused: the message
names it and the problem) or the command line is bad.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from semiology.errors import SemiologyError
from semiology.review.app import ReviewSettings, check_roots, create_app
from semiology.review.demo import USERS, seed_demo
from semiology.store.accounts import PASSWORD_ENV
from semiology.store.corrections import write_corrected_cache
from semiology.store.database import open_store

SECRET_ENV = "SEMIOLOGY_REVIEW_SECRET"
"""Signs session cookies; without it a random key is drawn at start (everybody signs in again after a restart)."""
DEMO_PASSWORD = "review-demo-password"
"""The demo accounts' password when $SEMIOLOGY_PASSWORD is not set: the demo is synthetic and listens on loopback only."""
log = logging.getLogger("semiology.review")


def serve(db: str, cache: Path, videos: Sequence[Path], host: str, port: int, https_only: bool = False) -> None:
    """Run the app with uvicorn until interrupted."""
    roots = check_roots(cache, list(videos) or [cache])
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not https_only:
        print(f"warning: listening on {host}, beyond this machine, without --https-only: put it behind a TLS proxy", file=sys.stderr)
    store = open_store(db)
    settings = ReviewSettings(store=store, roots=roots, session_secret=os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32), https_only=https_only)
    print(f"review app on http://{host}:{port}/ (store {store.name}); Ctrl-C stops it", flush=True)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        store.close()


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--https-only", action="store_true", help="mark session cookies Secure (serve behind TLS)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="review.py", description="The review web app: label signs on a timeline, review model proposals, correct keypoints.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve a store (the default command)")
    run.add_argument("--db", required=True, help="the label store: a SQLite file or a database URL")
    run.add_argument("--cache", type=Path, required=True, help="the keypoint cache folder (previews and attributions are kept under it)")
    run.add_argument("--videos", type=Path, action="append", default=[], help="a folder videos may be served from (repeatable; default: the cache)")
    _serve_arguments(run)
    for name in ("seed-demo", "demo"):
        demo = commands.add_parser(name, help="seed a demo store from the synthetic cohort" + (" and serve it" if name == "demo" else ""))
        demo.add_argument("--out", type=Path, default=Path("out/review-demo"))
        demo.add_argument("--subjects", type=int, default=3, help="rendered seizures (alternating between two sites)")
        demo.add_argument("--frames", type=int, default=120, help="frames per rendered seizure")
        demo.add_argument("--bundle", type=Path, help="screen with this bundle instead of training the demo's small one")
        if name == "demo":
            _serve_arguments(demo)
    fix = commands.add_parser("apply-corrections", help="write the cache with the store's keypoint corrections applied (for training)")
    fix.add_argument("--db", required=True)
    fix.add_argument("--cache", type=Path, required=True)
    fix.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run it; the exit status as the module docstring says."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0].startswith("--") and arguments[0] not in ("--help", "-h"):
        arguments.insert(0, "serve")
    args = _parser().parse_args(arguments)
    try:
        if args.command == "serve":
            serve(args.db, args.cache, args.videos, args.host, args.port, args.https_only)
        elif args.command in ("seed-demo", "demo"):
            password = os.environ.get(PASSWORD_ENV) or DEMO_PASSWORD
            made = seed_demo(args.out, password, subjects=args.subjects, n_frames=args.frames, bundle=args.bundle)
            for problem in made.problems:
                print(f"warning: {problem}", file=sys.stderr)
            print(f"demo store {made.db}: {len(made.seizures)} synthetic seizures, {made.proposals} model proposals; users {', '.join(f'{u} ({r})' for u, r, _ in USERS)}; "
                  f"password {'from $' + PASSWORD_ENV if os.environ.get(PASSWORD_ENV) else DEMO_PASSWORD}", flush=True)
            if args.command == "demo":
                serve(str(made.db), made.cache, [made.videos], args.host, args.port, args.https_only)
            else:
                print(f"serve it with: tools/review.py --db {made.db} --cache {made.cache} --videos {made.videos}")
        else:
            with open_store(args.db) as store:
                written, missing = write_corrected_cache(store, args.cache, args.out)
            print(f"wrote {len(written)} corrected records to {args.out}")
            if missing:
                print(f"error: {args.cache}: no cached record of seizures {', '.join(missing)}", file=sys.stderr)
                return 1
    except SemiologyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
