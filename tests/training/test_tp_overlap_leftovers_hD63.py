"""The TP-overlap scope's three leftovers of session 62 (hD, session 63; `training.tp_overlap`, `ops.layer`).

1. MLA's k_pos_emb gather under TP with SP is Megatron's own call, not a TE linear's: megatron-core 0.16.1
   transformer/multi_latent_attention.py:620-622 `gather_from_sequence_parallel_region` (tensor_parallel/
   mappings.py:499-510; `_GatherFromSequenceParallelRegion` :296-346: a plain `all_gather_into_tensor`, its backward a
   synchronous `reduce_scatter_tensor`). Its share of the latent record is `outside_te` (the rope dim's bytes of the
   one record; its own record under `MLA_LATENT_TE_GATHERS`), and the MLA layer's T x h records carry the FFN's
   outside-TE share as the GQA layer's do (they had dropped it: a shared expert under `moe_shared_expert_overlap`
   lost its Megatron pair's marks on MLA models).
2. LoRA on a MoE model (`frozen_base.with_frozen_layers`): a frozen linear's dgrad reduction finds no wgrad GEMM to
   hide under (TE 2.14 module/linear.py:744-754 issues it async, :768 runs the wgrad only `if ctx.requires_wgrad`,
   :941-943 waits), so the window TE's async path gave is given back; it is TE's linears' window only
   (`tp_overlap.te_linear_records`), as `layer_time` hid it: the dispatcher's expert-TP scatter was never in it.
   Before, the give-back took every TP reduction, so the async path made a LoRA step slower than the same stack
   without it (Mixtral 8x7B TP2 EP8 SP off: 0.49643 s of TP time against 0.48794 s).
3. nemo-24.12 / nemo-23.05 run TE's async dgrad path (`tp_async_backward`): transformer-engine 1.13.0 module/
   linear.py:506-514, :581-583 (nemo-23.05's TE 0.x: ASSUMPTION, the stack file). Before, their SP-off and MLA
   plans left every dgrad reduction exposed.
Each test fails on 993fc05f but the GQA control (Llama 4 Scout's shared pair, marked since hK62).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops import layer as ops_layer
from infraplan.ops.layer import Collective, layer_ops
from infraplan.ops.precision import recipe
from infraplan.training import frozen_base, tp_overlap
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_kernels import collective_times
from infraplan.training.layer_layout import layer_layout
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.plan import PlanArrays

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch toggles)
NEMO = load_stack("nemo-26.04")


def _f(x: object) -> float:
    return float(np.ravel(np.asarray(x))[0])


def _plan(**over: int) -> PlanArrays:
    fields = dict(tp=2, pp=1, dp=8, cp=1, ep=8, etp=1, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
                  recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.BF16), attention=0,
                  order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1)
    fields.update(over)
    return PlanArrays.one_plan(**fields).one_row  # type: ignore[arg-type]


def _no_overlap(stack: Stack) -> Stack:
    return stack.model_copy(update={"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0})


def _shared_overlap(stack: Stack) -> Stack:
    return stack.model_copy(update={"moe": stack.moe.model_copy(update={"shared_expert_overlap": True})})


def _records(stack: Stack, plan: PlanArrays, model: str = "deepseek-v3") -> tuple[tuple[Collective, ...], ...]:
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    ops = layer_ops(load_model(model), layer_layout(plan, False, stack, rates.fp8_gemm_layouts))
    return ops.collectives_fwd, ops.collectives_bwd


def _latents(records: tuple[Collective, ...], h: float) -> list[Collective]:
    """The TP records smaller than the T x h activation: MLA's latent gathers / reduce-scatters."""
    t_h = 4096 * h * 2.0
    return [c for c in records if c.role == "tp" and _f(c.bytes) < t_h and _f(c.group) == 2.0]


def test_the_rope_keys_gather_is_megatrons_own() -> None:
    """DeepSeek-V3 TP2 SP: the one latent record (q_lora 1536 + kv_lora 512 + rope 64) each way, in each layer kind,
    marks the rope's byte share 64 / 2112 outside TE; with the three gathers apart, the rope record whole and the TE
    up projections' none."""
    shape = load_model("deepseek-v3")
    share = shape.qk_rope_head_dim / (shape.q_lora_rank + shape.kv_lora_rank + shape.qk_rope_head_dim)
    assert share == pytest.approx(64 / 2112)
    for records in _records(NEMO, _plan()):
        latents = _latents(records, shape.hidden_size)
        assert len(latents) == 2 and all(c.outside_te == pytest.approx(share) for c in latents)  # (two layer kinds)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ops_layer, "MLA_LATENT_TE_GATHERS", True)
        marked = _records(NEMO, _plan())
    rope_bytes = 4096 * shape.qk_rope_head_dim * 2.0
    for records in marked:
        latents = _latents(records, shape.hidden_size)
        assert len(latents) == 6
        assert all(c.outside_te == (1.0 if _f(c.bytes) == rope_bytes else 0.0) for c in latents)


def test_te_async_path_leaves_the_rope_keys_reduce_scatter_exposed() -> None:
    """Without userbuffers (MLA on nemo-26.04) TE's async dgrad path hides its linears' reductions only: against
    hiding every record (TE_LINEARS_ONLY off), the backward TP time grows by the rope's share of the latent
    reduce-scatters (ETP 1 and TE shared experts: no other record outside TE)."""
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    plan = _plan()
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    _, bwd = _records(NEMO, plan)
    scatters = [c for c in _latents(bwd, shape.hidden_size) if c.kind == "reduce_scatter"]
    rope = sum(_f(collective_times(cluster.fabric, (c,), "tp", True)) * c.outside_te for c in scatters)
    now, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, NEMO)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        every, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, NEMO)
    assert rope > 0.0
    assert _f(now["tp_bwd"]) - _f(every["tp_bwd"]) == pytest.approx(rope, rel=1e-9)


@pytest.mark.parametrize("model", ["deepseek-v3", "llama4-scout"])
def test_an_mla_layer_marks_its_shared_pair_as_a_gqa_layer_does(model: str) -> None:
    """Under `moe_shared_expert_overlap` the shared expert's T x h gather / reduce-scatter are Megatron's: two
    outside-TE collectives each way in every routed layer (its gather and reduce-scatter forward, their gradients
    backward), on an MLA layer (DeepSeek-V3, 58 routed of 61) as on a GQA one (Llama 4 Scout). Before, the MLA
    forward marked none and its backward one."""
    shape = load_model(model)
    assert shape.shared_ffn_hidden_size
    stack = _shared_overlap(NEMO)
    routed = sum(n for kind, n in shape.layer_kinds() if kind.is_moe) / shape.num_layers
    t_h = 4096 * shape.hidden_size * 2.0

    def outside(records: tuple[Collective, ...]) -> float:
        return sum(c.count * c.outside_te for c in records
                   if c.role == "tp" and _f(c.bytes) == t_h and bool(np.all(c.mask)) and _f(c.group) == 2.0)

    fwd, bwd = _records(stack, _plan(), model)
    assert outside(fwd) == pytest.approx(2.0 * routed) and outside(bwd) == pytest.approx(2.0 * routed)


def _lora(stack: str | Stack, model: str = "mixtral-8x7b", **over: object):  # type: ignore[no-untyped-def]
    plan = {"gpus": 64, "tp": 2, "ep": 8, "seq_len": 4096, "global_batch": 256, "lora_rank": 16,
            "lora_targets": "all", "sequence_parallel": False, **over}
    return estimate_training(model, "dgx-h100-superpod", stack=stack, **plan)  # type: ignore[arg-type]


def test_lora_gives_back_only_the_window_te_gave() -> None:
    """Mixtral 8x7B TP2 EP8 (ETP2) SP off, LoRA on every linear, nemo-26.04: TE's async path can only hide, so the
    LoRA step's TP time is at most the same stack's without the path; since hN63 exactly it (a frozen TE linear's
    reduction hides under nothing: the adapters' wgrads hide their own all-reduces), while its full-training twin
    hides TE's window. Before hD63: 0.49643 s against 0.48794 s (the expert-TP scatter given back though never
    hidden); hD63 to hN63: below the bare stack's (the adapters' wgrads re-hid a share of TE's)."""
    bare = NEMO.model_copy(update={"tp_async_backward": False})
    lora, lora_bare = _lora(NEMO), _lora(bare)
    full, full_bare = _lora(NEMO, lora_rank=None, lora_targets=None), _lora(bare, lora_rank=None, lora_targets=None)
    assert lora.breakdown_s.tp_comm == pytest.approx(lora_bare.breakdown_s.tp_comm, rel=1e-12)
    assert full.breakdown_s.tp_comm < full_bare.breakdown_s.tp_comm


def test_lora_with_every_reduction_hidden_is_the_old_rule() -> None:
    """The toggle off (TE_LINEARS_ONLY False): the give-back takes every reduction again (and the layer hid every
    one). Under hD63's give-back (min(reductions, skipped wgrads), `frozen_base.KEPT_WINDOW` off) the LoRA step then
    loses more of the window than with the rule on; since hD64 the give-back is the window the layer took, whatever
    its scope, so the LoRA step's TP time is the same either way."""
    now = _lora(NEMO).breakdown_s.tp_comm
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        assert _lora(NEMO).breakdown_s.tp_comm == pytest.approx(now, rel=1e-12)
        patch.setattr(frozen_base, "KEPT_WINDOW", False)
        every = _lora(NEMO).breakdown_s.tp_comm
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", True)
        before = _lora(NEMO).breakdown_s.tp_comm
    assert before < every


@pytest.mark.parametrize("name", ["nemo-23.05", "nemo-24.12"])
def test_the_older_nemo_stacks_run_te_async_dgrad_path(name: str) -> None:
    """nemo-23.05 / 24.12 price TE's async dgrad path: Llama 3 70B TP8 SP off hides its column-parallel dgrad
    all-reduces under the wgrad GEMMs as nemo-26.04 does (before: 0.822 s of TP time a step, now 0.414; 0.533 since
    hD65, each reduction under its own linear's wgrad only)."""
    stack = load_stack(name)
    assert stack.tp_async_backward
    plan = {"gpus": 64, "tp": 8, "pp": 1, "seq_len": 4096, "global_batch": 64, "dtype": "bf16",
            "sequence_parallel": False}
    now = estimate_training("llama3-70b", "dgx-h100-superpod", stack=stack, **plan)  # type: ignore[arg-type]
    sync = estimate_training("llama3-70b", "dgx-h100-superpod",  # type: ignore[arg-type]
                             stack=stack.model_copy(update={"tp_async_backward": False}), **plan)
    assert now.breakdown_s.tp_comm < 0.7 * sync.breakdown_s.tp_comm


def test_an_mla_plan_on_nemo_24_12_takes_the_async_path() -> None:
    """DeepSeek-V3 (MLA: no userbuffers under Megatron-Core) TP2 EP64 on nemo-24.12: TE's async dgrad path hides its
    linears' reductions (before: 1.716 s of TP time a step, now 1.666)."""
    stack = load_stack("nemo-24.12")
    plan = {"gpus": 1024, "tp": 2, "pp": 1, "ep": 64, "seq_len": 4096, "global_batch": 2048, "recompute": "full"}
    now = estimate_training("deepseek-v3", "dgx-h100-superpod", stack=stack, **plan)  # type: ignore[arg-type]
    sync = estimate_training("deepseek-v3", "dgx-h100-superpod",  # type: ignore[arg-type]
                             stack=_no_overlap(stack).model_copy(update={"tp_async_backward": False}), **plan)
    assert now.breakdown_s.tp_comm < sync.breakdown_s.tp_comm
    assert now.breakdown_s.tp_comm == pytest.approx(1.666, abs=0.002)
