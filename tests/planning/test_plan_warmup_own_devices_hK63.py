"""`plan`'s DSA warm-up on its own count of the job's devices (hK63, `planning.dsa_training_stages`): a warm-up batch
with no plan on every device (16 sequences on 256 H800 under stack deepseek-v3: DualPipe needs >= 2 x PP
micro-batches, no CP) runs on the fastest halving of the job's count that has one; its wall clock adds to the sparse
stage's and its GPU-hours are its own, said in the detail. Where no count has a plan, `plan` says `search`'s reason
(`training.no_plan_reason`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infraplan.cli.main import main
from infraplan.planning.dsa_training_stages import staged_point, warmup_counts, warmup_floor
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioServiceRow
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.scenario_types import TrainingPoint

RUN = {"name": "run", "kind": "training", "model": "deepseek-v3.2", "tokens": "20B", "gpus": 256, "seq_len": 4096,
       "global_batch": 256, "dtype": "fp8", "stack": "deepseek-v3"}


def _spec(**service: Any) -> dict[str, Any]:
    return {"name": "one-run", "phases": [{"name": "2026", "year": 2026}], "services": [{**RUN, **service}],
            "pools": [{"name": "h800", "device": "h800", "site": "s"}],
            "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}


def _row(**service: Any) -> ScenarioServiceRow:
    (row,) = plan_scenario(ScenarioSpec.model_validate(_spec(**service))).services
    return row


def test_the_report_s_warmup_batch_runs_on_part_of_the_job() -> None:
    """2.1 B warm-up tokens at 16 sequences a step before 20 B at 256 on 256 H800: no warm-up plan on 256 (before
    hK63 the service had no plan at all); on 128 (TP8 DP16) it runs, its wall clock a warm-up alone's on 128 devices,
    added to the sparse stage's on 256, and its GPU-hours 128 x its wall clock."""
    both = _row(dsa_warmup_tokens="2.1B", dsa_warmup_global_batch=16)
    warm = _row(tokens="2.1B", dsa_stage="warmup", global_batch=16, gpus=128)
    sparse = _row()
    assert both.devices == 256 and warm.devices == 128
    assert warm.time_to_train_s is not None and sparse.time_to_train_s is not None
    assert both.time_to_train_s == pytest.approx(warm.time_to_train_s + sparse.time_to_train_s, rel=1e-12)
    hours = 128 * warm.time_to_train_s / 3600
    part = f"at 16 sequences a step, on 128 of the 256 devices ({hours:,.0f} GPU-hours), TP8 CP1 PP1 DP16"
    assert part in both.detail
    assert both.mfu == sparse.mfu and both.checkpoint_bytes == sparse.checkpoint_bytes


def test_a_warmup_with_a_plan_on_every_device_keeps_them() -> None:
    """256 sequences a step: the job's 256 devices are the fastest, the detail names no part."""
    both = _row(dsa_warmup_tokens="2.1B")
    warm, sparse = _row(tokens="2.1B", dsa_stage="warmup"), _row()
    assert warm.time_to_train_s is not None and sparse.time_to_train_s is not None
    assert both.time_to_train_s == pytest.approx(warm.time_to_train_s + sparse.time_to_train_s, rel=1e-12)
    assert "of the 256 devices" not in both.detail


def test_no_plan_says_the_search_s_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A warm-up alone on 256 H800 at 16 sequences: one line, exit 2, with the binding rule and what gives a plan."""
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_spec(tokens="2.1B", dsa_stage="warmup", global_batch=16)))
    capsys.readouterr()
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "no plan of deepseek-v3.2 fits 256 devices: no valid plan for 256 GPUs with global batch 16: " in err
    assert "the dualpipe pipeline schedule needs an even number of micro-batches" in err
    assert "valid plans at 128 GPUs or with --cross-node-tp or at a global batch of 32" in err


def _point(wall: float) -> TrainingPoint:
    return TrainingPoint(wall, f"TP8 CP1 PP1 DP{int(wall)} EP8 fp8, MFU 20 % of the fp8 peak", 0.2, 0.9)


def test_the_fastest_count_then_the_fewer_devices() -> None:
    """`staged_point` takes the warm-up's fastest count of the halvings, the fewer devices on a tie; a sparse stage
    with no plan, or a warm-up with none at any count, is the reason."""
    walls: dict[int, float | str] = {256: "no valid plan for 256 GPUs", 128: 10.0, 64: 10.0, 32: 30.0}

    def point_of(tokens: float, stage: str, batch: int, gpus: int) -> TrainingPoint | str:
        if stage == "sparse":
            return _point(100.0)
        wall = walls[gpus]
        return wall if isinstance(wall, str) else _point(wall)

    got = staged_point(point_of, 256, 1e9, 256, None, 1e8, 16, 32)
    assert got.wall_s == 110.0 and "on 64 of the 256 devices" in got.plan
    walls.update({128: "x", 64: "y", 32: "z"})
    assert staged_point(point_of, 256, 1e9, 256, None, 1e8, 16, 32) == (
        "the dense warm-up at 16 sequences a step on 256 devices: no valid plan for 256 GPUs")
    assert staged_point(lambda *a: "no sparse plan", 256, 1e9, 256, None, 1e8, 16, 32) == "no sparse plan"


def test_the_counts_stop_where_the_frozen_weights_fit() -> None:
    """deepseek-v3.2's bf16 weights on 80 GiB (85.5 GB) H800: 2 B x 672 B / 85.5 GB = 15.7 -> 16 devices."""
    assert warmup_floor("deepseek-v3.2", 85520809984.0) == 16
    assert warmup_counts(256, 16) == [256, 128, 64, 32, 16]
    assert warmup_counts(96, 16) == [96, 48, 24]
    assert warmup_counts(8, 16) == [8]
