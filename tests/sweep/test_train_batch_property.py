"""The sweep's batched `train` (`sweep.functions.train_batch`) is `estimate_training`, point by point (hypothesis).

"The same question asked two ways gets one answer": every drawn point, valid or not, gives through a sweep batch
exactly `estimate_training(**point).model_dump()` (numbers to the bit, notes, error band, MFU flag) or the same
error. Points are drawn over dense and MoE models, a catalog system whose job placement changes with the GPU count
(`Cluster.placed`), an accelerator preset that grows with it (`Cluster.for_gpus`), a non-NVIDIA system (the default
stack's note), several stacks (their recipes, default ZeRO, schedules), fp8 / NVFP4 with their higher-precision
twins (`training.fp8_slower_note`), `vpp` and `zero` None, recompute auto, block recompute and activation offload.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from infraplan.sweep.functions import input_columns, run_batch, train_batch
from infraplan.sweep.results import one_line_error
from infraplan.training.estimate import estimate_training

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None,  # the same draws in every run
                    phases=[Phase.explicit, Phase.generate],  # a failure names its point; shrinking a batch is slow
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BAD = [{"model": "no-such-model"}, {"system": "no-such-system"}, {"gpus": 0}, {"dtype": "fp4"}, {"tp": 0},
       {"recompute": "sometimes"}, {"zero": 5}, {"gpu": 8}, {"schedule": "zb-v", "pp": 1}]


@st.composite
def points(draw: Any) -> dict[str, Any]:
    """One `train` point: mostly plausible plans (about half valid), now and then a plainly bad argument."""
    point: dict[str, Any] = {
        "model": draw(st.sampled_from(["llama3-8b", "qwen3-30b-a3b", "mixtral-8x7b"])),
        "system": draw(st.sampled_from(["dgx-h100-superpod", "b200", "mi300x-cluster", "gb200-nvl72"])),
        "gpus": draw(st.sampled_from([8, 16, 64, 72, 128, 512])),
        "tp": draw(st.sampled_from([1, 2, 4, 8])),
        "pp": draw(st.sampled_from([1, 1, 2, 4])),
        "cp": draw(st.sampled_from([1, 1, 2])),
        "ep": draw(st.sampled_from([1, 2, 8])),
        "etp": draw(st.sampled_from([None, None, 1])),
        "vpp": draw(st.sampled_from([None, 1, 2])),
        "zero": draw(st.sampled_from([None, 0, 1, 3])),
        "recompute": draw(st.sampled_from(["none", "selective", "full", "auto"])),
        "dtype": draw(st.sampled_from(["bf16", "bf16", "fp8", "nvfp4"])),
        "seq_len": draw(st.sampled_from([2048, 4096])),
        "global_batch": draw(st.sampled_from([64, 256, 512])),
        "micro_batch": draw(st.sampled_from([1, 2])),
        "stack": draw(st.sampled_from([None, "torchtitan", "nemo-24.12", "deepspeed"])),
    }
    if draw(st.integers(0, 3)):  # mostly a plan that can run: the rules below are `resolve_plan`'s refusals
        dense = point["model"] == "llama3-8b"
        point["ep"] = 1 if dense else point["ep"]
        point["vpp"] = point["vpp"] if point["pp"] > 1 else draw(st.sampled_from([None, 1]))
        point["dtype"] = point["dtype"] if point["system"] in ("b200", "gb200-nvl72") else "bf16"
        point["gpus"] = max(point["gpus"], 8) * point["tp"] * point["pp"] * point["cp"] // 8
    if draw(st.integers(0, 9)) == 0:
        point["schedule"] = draw(st.sampled_from(["1f1b", "interleaved", "zb-v"]))
    if point["recompute"] == "full" and draw(st.booleans()):
        point["recompute_layers"] = 1
    if point["recompute"] == "none" and point["pp"] == 1 and draw(st.integers(0, 3)) == 0:
        point["offload_layers"] = 2
    if draw(st.integers(0, 19)) == 0:
        point.update(draw(st.sampled_from(BAD)))
    return point


def _single(point: dict[str, Any]) -> Any:
    try:
        return estimate_training(**point)
    except Exception as exc:  # a bad point's error, as `train` raises it
        return exc


def test_batched_train_is_estimate_training_point_by_point() -> None:
    seen = {"valid": 0, "invalid": 0}

    @SETTINGS
    @given(st.lists(points(), min_size=60, max_size=60))
    def batches(batch: list[dict[str, Any]]) -> None:
        outcomes = train_batch(batch)
        for point, outcome in zip(batch, outcomes, strict=True):
            expected = _single(point)
            if isinstance(expected, BaseException):
                assert isinstance(outcome, BaseException), (point, outcome)
                assert (type(outcome), str(outcome)) == (type(expected), str(expected)), point
            else:
                assert not isinstance(outcome, BaseException), (point, outcome)
                assert outcome.model_dump() == expected.model_dump(), point
            seen["invalid" if isinstance(expected, BaseException) else "valid"] += 1

    batches()
    assert seen["valid"] >= 60 and seen["invalid"] >= 60, seen  # both kinds, a few hundred points in all


@SETTINGS
@given(st.lists(points(), min_size=40, max_size=40))
def test_sweep_rows_are_train_answers_and_train_errors(batch: list[dict[str, Any]]) -> None:
    """A sweep's row of a point: its inputs and `estimate_training`'s flattened outputs, or `train`'s error line."""
    rows = run_batch("train", [(str(i), p) for i, p in enumerate(batch)], seed=0)
    for point, row in zip(batch, rows, strict=True):
        expected = _single(point)
        if isinstance(expected, BaseException):
            assert row["error"] == one_line_error(expected), point
        else:
            alone = run_batch("train", [("x", point)], seed=0)[0]  # one point: `estimate_training` itself
            assert row == {**alone, "key": row["key"]}
            assert {k: row[k] for k in input_columns(point, "train")} == input_columns(point, "train")
