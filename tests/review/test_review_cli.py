"""`tools/review.py` refuses what it cannot serve with a message naming it, exit status 2, before listening."""

from __future__ import annotations

from pathlib import Path

from semiology.review.cli import _parser, main
from tests.review.review_world import World


def test_a_missing_folder_or_store_is_refused(world: World, tmp_path: Path, capsys) -> None:
    assert main(["--db", world.db, "--cache", str(tmp_path / "no-cache")]) == 2
    assert "no-cache: not a folder" in capsys.readouterr().err
    assert main(["--db", world.db, "--cache", str(world.cache), "--videos", str(tmp_path / "no-videos")]) == 2
    assert "no-videos: not a folder" in capsys.readouterr().err
    assert main(["--db", str(tmp_path / "none.sqlite"), "--cache", str(world.cache)]) == 2
    assert "no label store here" in capsys.readouterr().err


def test_the_default_address_is_loopback() -> None:
    args = _parser().parse_args(["serve", "--db", "x", "--cache", "y"])
    assert (args.host, args.port, args.https_only) == ("127.0.0.1", 8000, False)
