"""Patient pseudonyms: a keyed hash of a site's own subject identifier with that site's secret.

A site (an epilepsy monitoring unit) knows its patients by an identifier of its own (a hospital
number, a research code). Everything `semiology` stores or shares names a patient by
`pseudonym(identifier, secret)` instead: HMAC-SHA256 keyed with a secret that never leaves the
site. The same identifier and secret always give the same pseudonym, so a patient's seizures
stay grouped across imports (which leave-one-subject-out validation needs), while nobody without
the secret can recompute it from a guessed identifier (a plain hash of a hospital number could
be reversed by hashing every possible number).
"""

from __future__ import annotations

import hashlib
import hmac

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
