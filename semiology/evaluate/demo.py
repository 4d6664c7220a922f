"""The demo `tools/loso_eval.py` runs with no config: the spine study, then the action studies.

All studies read one synthetic cohort, generated once. The action studies run on kinematic
snippet features; their reports go to `<out>/action/<config name>/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from semiology.evaluate.run import ExperimentRun, load_experiment, load_records, run_experiment

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO_ROOT / "configs" / "demo.yaml"
ACTION_DEMO_CONFIGS: tuple[Path, ...] = (REPO_ROOT / "configs" / "action_samples.yaml", REPO_ROOT / "configs" / "action_fos_tcs.yaml")


def run_demo(out_dir: Path, overrides: Mapping | None = None, progress: bool = True) -> dict[str, ExperimentRun]:
    """Run `configs/demo.yaml` into `out_dir` and each action demo config into `out_dir/action/<stem>`.

    `overrides` (e.g. `evaluation.workers`) apply to every study.
    """
    spine = load_experiment(DEMO_CONFIG, dict(overrides or {}))
    loaded = load_records(spine, str(DEMO_CONFIG))
    runs = {"demo": run_experiment(spine, out_dir, str(DEMO_CONFIG), progress=progress, loaded=loaded)}
    for path in ACTION_DEMO_CONFIGS:
        config = load_experiment(path, dict(overrides or {}))
        records = loaded if config.data == spine.data else None
        runs[path.stem] = run_experiment(config, out_dir / "action" / path.stem, str(path), progress=progress, loaded=records)
    return runs
