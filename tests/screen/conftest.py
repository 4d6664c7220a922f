"""The session's tiny bundle (see tests/bundle_fixtures.py)."""

import pytest

from tests.bundle_fixtures import TinyBundle, tiny_bundle


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> TinyBundle:
    return tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle")
