"""Pseudonyms, sites and users: keyed hashes, Argon2 passwords, roles, and a secret that must be the site's own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from semiology.pseudonyms import pseudonym
from semiology.store.accounts import add_site, add_user, authenticate, check_site_secret, get_site, get_user, read_secret, set_password
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.schema import AuditEntry, Site, User
from tests.store.conftest import PASSWORD, SECRET, People


def test_a_pseudonym_is_a_keyed_hash_that_depends_on_the_secret() -> None:
    assert pseudonym("HN-99817263", SECRET) == "dcf1aead3450f9da", "HMAC-SHA256 of the identifier keyed with the secret, first 16 hex characters"
    assert pseudonym("  HN-99817263 ", SECRET) == "dcf1aead3450f9da", "surrounding whitespace is not part of the identifier"
    assert pseudonym("HN-99817263", SECRET.decode()) == "dcf1aead3450f9da"
    assert pseudonym("HN-99817263", b"another site's secret, 32 bytes") != "dcf1aead3450f9da"
    assert pseudonym("HN-99817264", SECRET) != "dcf1aead3450f9da"
    with pytest.raises(ValueError, match="secret is empty"):
        pseudonym("HN-1", b"")
    with pytest.raises(ValueError, match="identifier is empty"):
        pseudonym("  ", SECRET)


def test_passwords_are_argon2_hashes_and_wrong_ones_fail_alike(store: Store, people: People) -> None:
    with store.session() as session:
        alice = get_user(session, people.alice)
        assert alice.password_hash.startswith("$argon2id$")
        assert PASSWORD not in alice.password_hash
        assert authenticate(session, people.alice, PASSWORD).id == alice.id
    with store.session() as session, pytest.raises(StoreError) as wrong:
        authenticate(session, people.alice, "not the password")
    with store.session() as session, pytest.raises(StoreError) as unknown:
        authenticate(session, "mallory", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == "unknown user or wrong password"


def test_a_password_change_is_audited_without_the_hash(store: Store, people: People) -> None:
    with store.session(actor=people.admin) as session:
        set_password(session, get_user(session, people.bob), "a brand new passphrase")
    with store.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "users", AuditEntry.action == "update")).one()
        hashes = [user.password_hash for user in session.scalars(select(User))]
        assert entry.actor == people.admin
        assert entry.old_values == {"password_hash": "<changed>"} and entry.new_values == {"password_hash": "<changed>"}
        inserted = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "users", AuditEntry.action == "insert")).all()
        assert len(inserted) == 4 and all(e.new_values["password_hash"] == "<set>" for e in inserted)
        assert not any(h in str(e.new_values) for e in inserted for h in hashes)
        assert authenticate(session, people.bob, "a brand new passphrase").username == people.bob


def test_users_need_a_known_role_a_free_name_and_a_long_password(store: Store, people: People) -> None:
    with store.session(actor=people.admin) as session:
        with pytest.raises(StoreError, match="unknown role 'boss'.*annotator, reviewer, admin"):
            add_user(session, "carol", "boss", PASSWORD)
        with pytest.raises(StoreError, match="user 'alice' exists already"):
            add_user(session, people.alice, "annotator", PASSWORD)
        with pytest.raises(StoreError, match="password too short"):
            add_user(session, "carol", "annotator", "short")
        with pytest.raises(StoreError, match="user name 'no spaces please'"):
            add_user(session, "no spaces please", "annotator", PASSWORD)


def test_a_site_keeps_a_check_of_its_secret_never_the_secret(store: Store, people: People) -> None:
    with store.session() as session:
        site = get_site(session, people.site)
        assert SECRET.decode() not in site.secret_check and len(site.secret_check) == 16
        check_site_secret(site, SECRET)
        with pytest.raises(StoreError, match="not the site's secret"):
            check_site_secret(site, b"a different secret of 32 bytes!!")
        with pytest.raises(StoreError, match=r"no site 'emu-z' in the store \(sites: emu-a\)"):
            get_site(session, "emu-z")


def test_a_change_without_an_actor_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="a change to sites without an actor"):
        with store.session() as session:
            add_site(session, "emu-b", SECRET)
    with store.session() as session:
        assert session.scalars(select(Site)).all() == []
        assert session.scalars(select(AuditEntry)).all() == []


def test_secrets_come_from_a_file_or_the_environment(tmp_path, monkeypatch) -> None:
    path = tmp_path / "site.key"
    path.write_bytes(SECRET + b"\n")
    assert read_secret(path) == SECRET
    monkeypatch.setenv("SEMIOLOGY_SITE_SECRET", SECRET.decode())
    assert read_secret(None) == SECRET
    monkeypatch.setenv("SEMIOLOGY_SITE_SECRET", "short")
    with pytest.raises(StoreError, match=r"\$SEMIOLOGY_SITE_SECRET: the site secret is too short \(5 bytes"):
        read_secret(None)
    monkeypatch.delenv("SEMIOLOGY_SITE_SECRET")
    with pytest.raises(StoreError, match="no site secret: give --secret-file FILE or set"):
        read_secret(None)
