"""The label store: seizures, sign labels, patients under pseudonyms, users, predictions and an audit log in one database.

SQLAlchemy 2 ORM with Alembic migrations shipped in the package (`semiology.store.migrate`).
SQLite by default (a file path), PostgreSQL by URL. The store is a row source for extraction,
screening and studies (`StoreSource`), imports and exports manifests (`manifests`), BIDS events
with HED SCORE tags (`bids`) and pyskl/mmaction2 skeleton pickles (`pyskl`), and measures
inter-rater agreement per sign (`agreement`). See docs/store.md.
"""

from semiology.store.database import DEFAULT_DB, Store, database_url, init_store, open_store
from semiology.store.errors import EventsFileError, IdentifierError, StoreError
from semiology.store.manifests import ImportSummary, StoreSource, export_manifest, import_manifest, read_rows

__all__ = [
    "DEFAULT_DB",
    "EventsFileError",
    "IdentifierError",
    "ImportSummary",
    "Store",
    "StoreError",
    "StoreSource",
    "database_url",
    "export_manifest",
    "import_manifest",
    "init_store",
    "open_store",
    "read_rows",
]
