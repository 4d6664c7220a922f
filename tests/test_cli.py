"""The command-line tool: clear one-message errors with exit status 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "loso_eval.py"), *args], capture_output=True, text=True, timeout=120)


def test_unknown_key_and_wrong_type_name_the_file_and_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(f"_base_: {ROOT / 'configs' / 'demo.yaml'}\ntrain:\n  epochs: many\n  lerning_rate: 0.1\n")
    result = run_tool("--config", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "bad.yaml" in result.stderr
    assert "train.epochs" in result.stderr and "int" in result.stderr
    assert "train.lerning_rate" in result.stderr


def test_bad_manifest_lists_rows_and_columns(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "seizure_id,subject_id,keypoints,onset_s,offset_s,dystonia,emotion\n"
        "S1,P1,missing.npz,10,40,yes,no\n"
        "S1,,missing2.npz,10,5,maybe,no\n"
    )
    config = tmp_path / "study.yaml"
    config.write_text(f"_base_: {ROOT / 'configs' / 'demo.yaml'}\ndata:\n  source: manifest\n  manifest: {manifest}\n")
    result = run_tool("--config", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "manifest.csv: row 3" in result.stderr
    assert "'subject_id'" in result.stderr and "duplicate" in result.stderr
    assert "'dystonia'" in result.stderr and "maybe" in result.stderr
    assert "missing.npz" in result.stderr


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = run_tool("--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr
