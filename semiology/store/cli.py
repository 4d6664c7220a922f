"""`tools/store.py`: the label store's command line. It parses arguments and calls the library; no logic lives here.

Secrets and passwords are read from files or environment variables, never from arguments
(a command line is visible to every user of the machine).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from semiology.errors import SemiologyError
from semiology.store.accounts import PASSWORD_ENV, SECRET_ENV, add_site, add_user, count_users, get_site, get_user, read_secret, require_role
from semiology.store.agreement import format_agreement, sign_agreement, write_agreement
from semiology.store.bids import export_events, import_events
from semiology.store.database import DEFAULT_DB, database_url, display_name, init_store, make_engine, open_store
from semiology.store.errors import StoreError
from semiology.store.labels import sign_terms
from semiology.store.manifests import export_manifest, import_manifest
from semiology.store.migrate import current_revision, downgrade, head_revision, revisions, upgrade
from semiology.store.pyskl import STREAMS, export_skeletons
from semiology.store.vocabulary import EVENT_KINDS, ROLES, SEIZURE_TYPES


def _read_password(path: Path | None) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StoreError(f"{path}: cannot read the password ({exc.strerror})") from None
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise StoreError(f"no password: give --password-file FILE or set ${PASSWORD_ENV}")
    first, second = getpass.getpass("password: "), getpass.getpass("again: ")
    if first != second:
        raise StoreError("the two passwords differ")
    return first


def _init(args: argparse.Namespace) -> str:
    with init_store(args.db) as store:
        return f"store {store.name} at schema revision {head_revision()}"


def _migrate(args: argparse.Namespace) -> str:
    engine = make_engine(args.db)
    try:
        known = revisions()
        current = current_revision(engine)
        target = known[-1] if args.to == "head" else args.to
        if target != "base" and target not in known:
            raise StoreError(f"unknown schema revision {args.to!r} (revisions: base, {', '.join(known)}, head)")
        position = {revision: index for index, revision in enumerate(known)}
        if target == "base" or (current is not None and position[target] < position[current]):
            downgrade(engine, target)
        else:
            upgrade(engine, target)
        return f"store {display_name(database_url(args.db))}: schema revision {current or 'none'} -> {current_revision(engine) or 'none'}"
    finally:
        engine.dispose()


def _add_user(args: argparse.Namespace) -> str:
    password = _read_password(args.password_file)
    with open_store(args.db) as store:
        with store.session() as session:
            first = count_users(session) == 0
            if first and args.role != "admin":
                raise StoreError("the store has no users yet: the first user must be an admin (--role admin)")
            if not first:
                if args.by is None:
                    raise StoreError("--by ADMIN is required: which admin adds this user")
                require_role(get_user(session, args.by), ("admin",), "add users")
        with store.session(actor=args.username if first else args.by) as session:
            site = get_site(session, args.site) if args.site else None
            user = add_user(session, args.username, args.role, password, site)
            return f"added user {user.username} ({user.role})"


def _add_site(args: argparse.Namespace) -> str:
    secret = read_secret(args.secret_file)
    with open_store(args.db) as store, store.session(actor=args.by) as session:
        require_role(get_user(session, args.by), ("admin",), "add sites")
        site = add_site(session, args.name, secret)
        return f"added site {site.name}"


def _import(args: argparse.Namespace) -> str:
    secret = None if args.pseudonymised else read_secret(args.secret_file)
    with open_store(args.db) as store:
        summary = import_manifest(store, args.manifest, args.site, args.user, secret, pseudonymised=args.pseudonymised,
                                  drop_identifying=args.drop_identifying, check_files=not args.no_check_files, probe_files=not args.no_probe)
    dropped = f"; left out the identifying columns {', '.join(summary.dropped_columns)}" if summary.dropped_columns else ""
    return f"{summary.rows} rows: {summary.created} new seizures, {summary.updated} updated, {summary.unchanged} unchanged{dropped}"


def _export_manifest(args: argparse.Namespace) -> str:
    with open_store(args.db) as store:
        return f"manifest: {export_manifest(store, args.out, args.site)}"


def _export_bids(args: argparse.Namespace) -> str:
    with open_store(args.db) as store:
        files = export_events(store, args.out, args.site)
    return f"{len(files)} events files under {args.out}"


def _import_bids(args: argparse.Namespace) -> str:
    with open_store(args.db) as store:
        result = import_events(store, args.dir, args.user)
    return (f"{result.seizures} seizures: {result.added} sign labels added, {result.removed} removed, {result.kept} kept; "
            f"{result.reclassified} seizures reclassified or retimed")


def _export_pyskl(args: argparse.Namespace) -> str:
    with open_store(args.db) as store:
        result = export_skeletons(store, args.out, args.task, args.stream, args.classes, args.site)
    skipped = "".join(f"\n  left out {key}: {why}" for key, why in result.skipped)
    return f"{result.annotations} annotations, labels {list(result.label_names)}: {result.path}{skipped}"


def _agreement(args: argparse.Namespace) -> str:
    with open_store(args.db) as store:
        results = sign_agreement(store, args.a, args.b, args.bin_s)
    text = format_agreement(results, args.a, args.b)
    if args.out:
        text += f"\n\nCSV: {write_agreement(results, args.out)}"
    return text


def _terms(args: argparse.Namespace) -> str:
    with open_store(args.db) as store, store.session() as session:
        terms = sign_terms(session)
    lines = ["sign terms (ILAE glossary):"] + [f"  {term.term:<28}{term.hed:<52}{term.label}" for term in terms.values()]
    lines += ["seizure types (ILAE 2025, column ilae_seizure_type):"] + [f"  {term.key:<34}{term.label}" for term in SEIZURE_TYPES]
    lines += ["event kinds (column event_kind):"] + [f"  {term.key:<34}{term.label}" for term in EVENT_KINDS]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `tools/store.py` and its sub-commands."""
    parser = argparse.ArgumentParser(prog="store.py", description="The label store: sites, users, patients under pseudonyms, seizures, sign labels, "
                                     "predictions and their audit log, in SQLite (default) or PostgreSQL.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run: Callable[[argparse.Namespace], str]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", default=DEFAULT_DB, help=f"database URL (postgresql+psycopg://user@host/db) or SQLite file (default: {DEFAULT_DB})")
        sub.set_defaults(run=run)
        return sub

    command("init", "create the store, or upgrade it to the newest schema", _init)
    sub = command("migrate", "move the schema to a revision (up or down; 'base' removes every table)", _migrate)
    sub.add_argument("--to", required=True, help="revision: base, head or a revision id")
    sub = command("add-user", f"add a user; the password comes from --password-file, ${PASSWORD_ENV} or a prompt", _add_user)
    sub.add_argument("--username", required=True)
    sub.add_argument("--role", required=True, choices=ROLES)
    sub.add_argument("--site", default=None, help="the user's site")
    sub.add_argument("--password-file", type=Path, default=None)
    sub.add_argument("--by", default=None, help="the admin adding the user (not needed for the first user, who must be an admin)")
    sub = command("add-site", f"add a site; its secret comes from --secret-file or ${SECRET_ENV} and is not stored", _add_site)
    sub.add_argument("--name", required=True)
    sub.add_argument("--secret-file", type=Path, default=None)
    sub.add_argument("--by", required=True, help="the admin adding the site")
    sub = command("import", "import (or re-import) a manifest CSV/YAML; subject ids become pseudonyms", _import)
    sub.add_argument("--manifest", type=Path, required=True)
    sub.add_argument("--site", required=True)
    sub.add_argument("--user", required=True, help="who imports (the audit log and the task labels name this user)")
    sub.add_argument("--secret-file", type=Path, default=None, help=f"the site secret (default: ${SECRET_ENV})")
    sub.add_argument("--pseudonymised", action="store_true", help="subject ids are already pseudonyms: keep them as they are")
    sub.add_argument("--drop-identifying", action="store_true", help="leave identifying columns (names, birth dates, hospital numbers, ...) out instead of refusing the manifest")
    sub.add_argument("--no-check-files", action="store_true", help="do not require the files to exist here")
    sub.add_argument("--no-probe", action="store_true", help="do not read files for checksums and frame counts")
    sub = command("export-manifest", "write the seizures as a manifest CSV/YAML (subject ids are pseudonyms)", _export_manifest)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--site", default=None)
    sub = command("export-bids", "write BIDS-style events.tsv files (HED SCORE tags, side in its own column)", _export_bids)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--site", default=None)
    sub = command("import-bids", "read events.tsv files written by export-bids (and edited since) back into the store", _import_bids)
    sub.add_argument("--dir", type=Path, required=True)
    sub.add_argument("--user", required=True, help="who imports")
    sub = command("export-pyskl", "write a pyskl/mmaction2 skeleton annotation pickle of the cached keypoints with a task's labels", _export_pyskl)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--task", required=True, help="a task label column, ilae_seizure_type or event_kind")
    sub.add_argument("--stream", default="body_2d", choices=STREAMS)
    sub.add_argument("--classes", nargs="+", default=None, help="label order (default: the values found, sorted)")
    sub.add_argument("--site", default=None)
    sub = command("agreement", "inter-rater agreement per sign between two annotators: Cohen's kappa on time bins and span IoU", _agreement)
    sub.add_argument("--a", required=True, help="first annotator's username")
    sub.add_argument("--b", required=True, help="second annotator's username")
    sub.add_argument("--bin-s", type=float, default=0.5, help="bin length for kappa in seconds (default 0.5)")
    sub.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    command("terms", "list the vocabularies: sign terms with HED SCORE tags, ILAE 2025 seizure types, event kinds", _terms)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; a SemiologyError is printed without a traceback and gives exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        print(args.run(args))
    except SemiologyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
