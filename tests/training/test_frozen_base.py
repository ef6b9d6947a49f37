"""LoRA on a frozen base (`training.frozen_base`, `train --lora-rank`): the backward without the frozen weight
gradients, memory without the base's gradients and optimizer states, DP traffic of the adapters alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infraplan.training.estimate import TrainingPoint, estimate_training, resolve_training
from infraplan.training.frozen_base import (
    FLOP_CONVENTION,
    adapter_params,
    frozen_layer_terms,
    lora_spec,
)
from infraplan.training.frozen_traffic import frozen_traffic
from infraplan.training.one_plan_memo import cluster_pricing

PLAN = dict(model="llama2-70b", system="dgx-h100-superpod", gpus=8, tp=4, cp=2, seq_len=8192, global_batch=8,
            micro_batch=1, dtype="fp8", recompute="none", zero=1)


def _point(**changes: object) -> TrainingPoint:
    args = {**PLAN, **changes}
    return resolve_training(args.pop("model"), args.pop("system"), args.pop("gpus"), **args)  # type: ignore[arg-type]


def test_frozen_step_drops_the_weight_gradients() -> None:
    """The compute of a LoRA step is the full step's less m x L x (the frozen weight-gradient GEMMs - the
    adapters' GEMMs), every other component unchanged; the wgrad share is a sizeable part of the compute."""
    full = estimate_training(**PLAN)  # type: ignore[arg-type]
    lora = estimate_training(**PLAN, lora_rank=16)  # type: ignore[arg-type]
    point = _point()
    shape, row = point.shape, point.plan.one_row
    pricing = cluster_pricing(point.cluster, point.profile)
    skipped, fwd, bwd = frozen_layer_terms(shape, pricing.rates, row, pricing.precision_of(row), point.profile,
                                           lora_spec(shape, 16))
    # rank 16: the adapters' GEMMs are memory-bound (each reads the T x h input: 4,096 x 8,192 bf16, ~20 us on H100),
    # priced at their small shapes, not at their FLOPs (R / h = 0.2 % of the projection's)
    assert 0.05 * skipped < fwd + bwd < 0.5 * skipped
    micro_batches = 8
    drop = full.breakdown_s.compute - lora.breakdown_s.compute
    assert drop == pytest.approx(micro_batches * shape.num_layers * (skipped - fwd - bwd), rel=1e-9)
    assert drop > 0.15 * full.breakdown_s.compute
    for k in ("cp_comm", "other"):  # tp_comm: the adapters' TP collectives added (hX55, test_lora_tp_hX55.py)
        assert getattr(lora.breakdown_s, k) == getattr(full.breakdown_s, k)
    assert lora.step_time_s < full.step_time_s


def test_memory_drops_by_the_base_gradients_and_optimizer() -> None:
    full = estimate_training(**PLAN)  # type: ignore[arg-type]
    lora = estimate_training(**PLAN, lora_rank=16)  # type: ignore[arg-type]
    f, m = full.memory_breakdown_bytes, lora.memory_breakdown_bytes
    share = lora.trainable_params_count / full.parameters
    assert m.gradients == pytest.approx(f.gradients * share)
    assert m.optimizer == pytest.approx(f.optimizer * share)
    point = _point()
    local = adapter_params(point.shape, point.plan.one_row, lora_spec(point.shape, 16))[0]
    assert m.weights == pytest.approx(f.weights + 2.0 * local * 80)  # bf16 adapters on the 80 local layers
    assert m.activations == f.activations
    assert full.memory_per_gpu_bytes - lora.memory_per_gpu_bytes > 0.9 * (f.gradients + f.optimizer)


def test_trainable_params_of_llama2_70b_qkvo() -> None:
    """R (in + out) per adapted projection: QKV 8,192 -> 8,192 + 2 x 1,024, O 8,192 -> 8,192, 80 layers."""
    lora = estimate_training(**PLAN, lora_rank=16)  # type: ignore[arg-type]
    assert lora.trainable_params_count == 80 * 16 * ((8192 + 10240) + (8192 + 8192)) == 44_564_480
    assert lora.mfu_flop_convention == FLOP_CONVENTION and lora.lora_rank == 16
    assert any("LoRA rank 16" in n for n in lora.notes)


@pytest.mark.parametrize("zero", [1, 3])
def test_dp_traffic_is_the_adapters(zero: int) -> None:
    """The DP reduction is priced on the adapters' parameters; ZeRO-3 still gathers the full frozen weights."""
    point = _point(gpus=64, tp=8, cp=1, seq_len=4096, global_batch=64, zero=zero)
    shape, row = point.shape, point.plan.one_row
    spec = lora_spec(shape, 16)
    asked: list[float] = []

    def collectives(params: float) -> dict[str, float]:
        asked.append(params)
        return {"allreduce": 0.0, "scatter": params, "gather": params, "scatter_layers": params,
                "gather_layers": params}

    full_params = 1e9
    out = frozen_traffic({"params": full_params, "expert_params": 0.0, "sharded": full_params / 8,
                          "embedding_sync": 1.0}, shape, row, spec, collectives)
    adapters = adapter_params(shape, row, spec)[0] * 80
    assert out["scatter"] == out["scatter_layers"] == adapters and out["embedding_sync"] == 0.0
    assert out["sharded"] == adapters / 8
    assert out["gather_layers"] == (full_params if zero >= 3 else adapters)


@pytest.mark.parametrize("args", [["--lora-rank", "0"], ["--lora-rank", "9000"],
                                  ["--lora-rank", "16", "--lora-targets", "mlp"]])
def test_bad_lora_input_is_one_line(args: list[str]) -> None:
    run = subprocess.run([sys.executable, "-c", "import sys; from infraplan.cli.main import main; "
                          "sys.argv[0] = 'infraplan'; sys.exit(main())", "train", "llama2-7b", "--system",
                          "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096", "--global-batch", "8", *args],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "--lora" in run.stderr


def test_async_dgrad_reductions_lose_the_wgrad_window(tmp_path: object) -> None:
    """Without TP overlap, a `tp_async_backward` stack hides the dgrad TP reductions under the wgrad GEMMs
    (`layer_time`); a frozen base has only the adapters' wgrads there, so its TP time grows (and only then)."""
    stack = tmp_path / "no-overlap.yaml"  # type: ignore[operator]
    stack.write_text("extends: nemo-26.04\nname: nemo-26.04-no-tp-overlap\ntp_comm_overlap_fraction: 0.0\n")
    plan = dict(PLAN, tp=8, cp=1)
    full = estimate_training(**plan, stack=str(stack))  # type: ignore[arg-type]
    lora = estimate_training(**plan, stack=str(stack), lora_rank=16)  # type: ignore[arg-type]
    assert lora.breakdown_s.tp_comm > 1.2 * full.breakdown_s.tp_comm
    # (hX55: with TP overlap the base's TP time is unchanged and the adapters' own collectives are added, exposed,
    # test_lora_tp_hX55.py; without it the lost window adds to them)
    overlapped = [estimate_training(**plan, stack="nemo-26.04", lora_rank=r)  # type: ignore[arg-type]
                  for r in (None, 16)]
    assert overlapped[1].breakdown_s.tp_comm > overlapped[0].breakdown_s.tp_comm


def test_optimizer_steps_the_adapters() -> None:
    """Adam on the adapters alone: the optimizer's memory-bound time falls by about trainable / total parameters
    (its launches stay)."""
    plan = dict(PLAN, gpus=64, tp=8, cp=1, global_batch=64)
    full = estimate_training(**plan)  # type: ignore[arg-type]
    lora = estimate_training(**plan, lora_rank=16)  # type: ignore[arg-type]
    assert lora.breakdown_s.optimizer < 0.05 * full.breakdown_s.optimizer
    assert lora.breakdown_s.dp_comm_exposed <= full.breakdown_s.dp_comm_exposed
