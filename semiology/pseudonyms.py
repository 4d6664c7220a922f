"""Patient pseudonyms: a keyed hash of a site's own subject identifier with that site's secret.

A site (an epilepsy monitoring unit) knows its patients by an identifier of its own (a hospital
number, a research code). Everything `semiology` stores or shares names a patient by
`pseudonym(identifier, secret)` instead: HMAC-SHA256 keyed with a secret that never leaves the
site. The same identifier and secret always give the same pseudonym, so a patient's seizures
stay grouped across imports (which leave-one-subject-out validation needs), while nobody without
the secret can recompute it from a guessed identifier (a plain hash of a hospital number could
be reversed by hashing every possible number).

Also here: the names of columns that hold a patient identifier (`IDENTIFYING_COLUMNS`), which
manifests and the label store refuse, and this site's secret (`site_secret`), which every tool
that reads a manifest uses to pseudonymise subject ids before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

PSEUDONYM_HEX_CHARS = 16
"""Hex characters kept from the HMAC: 64 bits, so two of a site's patients collide with
probability about n^2 / 2^65 (under 1e-9 for 100,000 patients)."""


def pseudonym(identifier: str, secret: bytes | str) -> str:
    """The pseudonym of a site's subject `identifier` under the site `secret` (16 lower-case hex characters).

    Surrounding whitespace of the identifier is ignored, so a padded spreadsheet cell maps to the
    same patient. An empty identifier or secret is refused: either would give every patient of a
    site the same, or a guessable, pseudonym.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    text = identifier.strip()
    if not key:
        raise ValueError("the site secret is empty: a pseudonym needs a secret that only the site knows")
    if not text:
        raise ValueError("the subject identifier is empty")
    digest = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_CHARS]


IDENTIFYING_COLUMNS: tuple[str, ...] = (
    "name", "patient_name", "patientname", "full_name", "first_name", "firstname", "given_name", "last_name", "lastname",
    "surname", "family_name", "middle_name", "initials", "birth_date", "birthdate", "date_of_birth", "dob", "birthday",
    "hospital_number", "hospital_no", "hospital_id", "mrn", "medical_record_number", "record_number", "patient_number",
    "patient_id", "nhs_number", "insurance_number", "social_security_number", "ssn", "national_id", "personal_number",
    "address", "street", "postcode", "postal_code", "zip", "zip_code", "city", "phone", "telephone", "mobile", "email",
    "e_mail", "admission_date", "discharge_date", "date_of_death",
)
"""Column names (compared after lower-casing and turning every run of other characters into `_`)
that hold a patient identifier. Reading a manifest, and importing one into the label store,
refuses any of them unless told otherwise; they are never written anywhere."""

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalised_column(name: str) -> str:
    """`name` lower-cased with every run of characters other than letters and digits made one `_`."""
    return _NON_WORD.sub("_", name.lower()).strip("_")


def identifying_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The columns among `columns` whose (normalised) name is in `IDENTIFYING_COLUMNS`, in their order."""
    listed = set(IDENTIFYING_COLUMNS)
    return [column for column in columns if normalised_column(column) in listed]


SECRET_ENV = "SEMIOLOGY_SITE_SECRET"
SECRET_FILE_ENV = "SEMIOLOGY_SECRET_FILE"
DEFAULT_SECRET_FILE = Path("~/.config/semiology/site_secret")


def site_secret() -> bytes:
    """This site's secret: `$SEMIOLOGY_SITE_SECRET`, else the file `$SEMIOLOGY_SECRET_FILE` (default `~/.config/semiology/site_secret`).

    A missing file is created with 32 random bytes (hex), readable by its owner only, so
    pseudonymisation works from the first run. It lives outside every output folder; keep it
    (and back it up) to recompute the same pseudonyms later, and share it only with whoever may
    map pseudonyms back to patients.
    """
    value = os.environ.get(SECRET_ENV)
    if value:
        return value.encode("utf-8")
    path = Path(os.environ.get(SECRET_FILE_ENV) or DEFAULT_SECRET_FILE).expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def subject_pseudonym(identifier: str) -> str:
    """The pseudonym of a subject identifier under this site's secret (see `site_secret`)."""
    return pseudonym(identifier, site_secret())
