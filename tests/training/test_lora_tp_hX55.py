"""LoRA adapters under tensor parallel as Megatron-Bridge 0.6.0's `ParallelLinearAdapter` runs them
(`frozen_base.adapter_collectives`, `adapter_params`; peft/utils.py:999-1050, :1183-1239): a row-parallel adapter's B
output all-gathered to T x h forward and its gradient all-gathered backward (SP), A and B split on every adapter."""

from __future__ import annotations

import pytest

from infraplan.network.collectives import collective_seconds
from infraplan.ops.layer import layer_ops
from infraplan.training import frozen_base
from infraplan.training.estimate import TrainingPoint, estimate_training, resolve_training
from infraplan.training.frozen_base import (
    ROW_PARALLEL,
    adapter_collectives,
    adapter_dgrad_hidden,
    adapter_params,
    lora_spec,
)
from infraplan.training.layer_kernels import collective_times
from infraplan.training.layer_time import layer_layout
from infraplan.training.one_plan_memo import cluster_pricing

PLAN = dict(model="llama2-70b", system="dgx-h100-superpod", gpus=8, tp=4, cp=2, seq_len=8192, global_batch=8,
            micro_batch=1, dtype="fp8", recompute="none", zero=1)
T, H, R = 1 * 8192 // 2, 8192, 16  # tokens of a micro-batch on a CP rank, hidden, rank


def _point(**changes: object) -> TrainingPoint:
    args = {**PLAN, **changes}
    return resolve_training(args.pop("model"), args.pop("system"), args.pop("gpus"), **args)  # type: ignore[arg-type]


def _records(point: TrainingPoint, targets: str = "attention", overlap: float | None = None) -> tuple:
    stack = point.profile if overlap is None else point.profile.model_copy(
        update={"tp_comm_overlap_fraction": overlap})
    return adapter_collectives(point.shape, point.plan.one_row, lora_spec(point.shape, R, targets), stack)


def test_row_parallel_adapter_all_gathers_t_by_h_each_phase() -> None:
    """The out-projection's adapter: one T x h all-gather forward and one backward, priced as the collective model's
    all-gather of T x h bf16 bytes over the TP group (the base layer's SP all-gather of the same bytes)."""
    point = _point()
    fwd, bwd = _records(point, overlap=0.0)  # (no userbuffers: the QKV adapter reuses the base's gathered input)
    big = [c for c in (*fwd, *bwd) if c.mask and c.bytes == T * H * 2.0]
    assert [c.kind for c in big] == ["all_gather", "all_gather"]
    fabric = point.cluster.fabric
    one = collective_seconds(fabric, "all_gather", T * H * 2.0, 4, 1)
    assert one > 0.0
    small = [c for c in fwd if c.bytes == T * R * 2.0]  # (x A's T x R all-gather, the row adapter's all-reduce)
    assert collective_times(fabric, fwd, "tp", True) == pytest.approx(
        one + sum(collective_seconds(fabric, c.kind, c.bytes, 4, 1) for c in small), rel=1e-12)


def test_no_adapter_collective_at_tp1() -> None:
    point = _point(tp=1, cp=8)
    fwd, bwd = _records(point, "all")
    assert collective_times(point.cluster.fabric, fwd, "tp", True) == 0.0
    assert collective_times(point.cluster.fabric, bwd, "tp", True) == 0.0


def test_column_parallel_adapter_moves_no_t_by_h_without_userbuffers() -> None:
    """QKV / FFN up: the input is the layer norm output the base already gathered (TE return_layernorm_output_
    gathered): only T x R moves;
    with TE's userbuffers all-gather the adapter gathers T x h itself (utils.py:602-624)."""
    point = _point()
    spec = lora_spec(point.shape, R, "all")
    gemms = layer_ops(point.shape, layer_layout(point.plan.one_row, False)).gemms
    column = tuple(g for g in gemms if g.role in ("qkv", "ffn_up"))
    for overlap, moved in ((0.0, False), (0.8, True)):
        stack = point.profile.model_copy(update={"tp_comm_overlap_fraction": overlap})
        fwd, bwd = adapter_collectives(point.shape, point.plan.one_row, spec, stack, column)
        big = [c for c in (*fwd, *bwd) if c.mask and c.bytes != T * R * 2.0]
        assert [(c.kind, c.bytes) for c in big] == ([("all_gather", T * H * 2.0)] * 2  # forward
                                                    + [("reduce_scatter", T * H * 2.0)] * 2 if moved else [])
        assert any(c.bytes == T * R * 2.0 for c in fwd)


def test_per_gpu_adapter_params_are_split_over_tp() -> None:
    """A and B split on every adapter: one GPU holds 1 / TP of the layer's adapters (before: R (k + n) per
    projection, the column-parallel A and row-parallel B whole)."""
    for tp in (1, 2, 4, 8):
        point = _point(tp=tp, cp=8 // tp)
        local, total = adapter_params(point.shape, point.plan.one_row, lora_spec(point.shape, R, "all"))
        assert local * tp == pytest.approx(total, rel=1e-12)
    assert "attention_out" in ROW_PARALLEL


def _hidden(point: TrainingPoint) -> float:
    """The adapters' input-gradient all-reduces their own wgrads hide, per layer (hN63: `adapter_dgrad_hidden`)."""
    rates = cluster_pricing(point.cluster, point.profile).rates
    return float(adapter_dgrad_hidden(point.shape, rates, point.plan.one_row, lora_spec(point.shape, R),
                                      point.cluster.fabric))


def test_lora_step_adds_the_adapters_collectives_exposed() -> None:
    """The step's TP time grows by micro-batches x layers x the adapters' forward + backward collectives (exposed
    but what their own wgrads hide of their input-gradient all-reduces, hN63; the base's TP time unchanged: its
    skipped wgrad re-gathers apart, `FROZEN_SKIPS_REGATHER` off here), none at TP1."""
    point = _point()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frozen_base, "FROZEN_SKIPS_REGATHER", False)
        full, lora = (estimate_training(**PLAN, lora_rank=r) for r in (None, R))  # type: ignore[arg-type]
    fwd, bwd = _records(point)
    fabric = point.cluster.fabric
    per_layer = collective_times(fabric, fwd, "tp", True) + collective_times(fabric, bwd, "tp", True)
    hidden = _hidden(point)
    assert 0.0 < hidden < collective_times(fabric, bwd, "tp", True)
    assert lora.breakdown_s.tp_comm - full.breakdown_s.tp_comm == pytest.approx(8 * 80 * (per_layer - hidden),
                                                                                rel=1e-9)
    tp1 = [estimate_training(**dict(PLAN, tp=1, cp=8), lora_rank=r) for r in (None, R)]  # type: ignore[arg-type]
    assert tp1[1].breakdown_s.tp_comm == tp1[0].breakdown_s.tp_comm


def test_full_recompute_reruns_the_adapters_forward_collectives() -> None:
    """Full recompute replays the layer's forward in its backward, the adapters' collectives with it."""
    point = _point(recompute="full")
    plan = dict(PLAN, recompute="full")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frozen_base, "FROZEN_SKIPS_REGATHER", False)  # (the base's re-gathers apart)
        full, lora = (estimate_training(**plan, lora_rank=r) for r in (None, R))  # type: ignore[arg-type]
    fwd, bwd = _records(point)
    fabric = point.cluster.fabric
    per_layer = 2.0 * collective_times(fabric, fwd, "tp", True) + collective_times(fabric, bwd, "tp", True)
    assert lora.breakdown_s.tp_comm - full.breakdown_s.tp_comm == pytest.approx(
        8 * 80 * (per_layer - _hidden(point)), rel=1e-9)
