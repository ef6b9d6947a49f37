"""Training leftovers (hD, session 68): the deepspeed / deepseek-v3 stacks' precisions; Kimi K2.5's recipe layouts
on nemo-26.04 and DeepSeek-V3.2's refusal there; the MFU guard on DualPipe / ZB-V plans; the search's memory high
bound without the MTP layer's held set twice; a plain linear's fresh wgrad while its deferred store runs.

Sources: DeepSpeed 0.16.4 runtime/engine.py:1224-1231 (bf16 / fp16, no fp8 in its runtime); DeepSeek-V3 report
(arXiv:2412.19437) sec. 3.3 and Appendix B.1; megatron-bridge 0.6.0 recipes/kimi_vl/h100/kimi_k25_vl.py:28-50
(K2's layouts for Kimi K2.5); Transformer Engine 2.14 module/base.py:1564-1582 (`backward_dw`: the popped GEMM's
fresh wgrad set as the weight's `.grad` until the hook adds it into main_grad), megatron-core 0.16.1
transformer/attention.py:1493-1504 (qkv's store runs before proj's). Without this session's changes the precision,
Kimi K2.5, refusal-wording, bound and in-store-wgrad checks fail; the guard checks pin behaviour that held already.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.training import deferred_wgrad_memory
from infraplan.training.activation_memory import mtp_activation_bytes
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans, search_plans
from infraplan.training.stack_limits import searched_dtypes, stack_dtype_notes

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch a toggle)
NEMO = load_stack("nemo-26.04")
EVERY = ["bf16", "fp8", "mxfp8", "nvfp4"]


@pytest.mark.parametrize("name", ["deepspeed", "deepseek-v3"])
def test_deepspeed_and_deepseek_stacks_train_in_bf16_and_fp8(name: str) -> None:
    """Each names its precisions: a search tries bf16 and fp8 only, refuses --dtype nvfp4 / mxfp8 naming the stack;
    `train` notes a precision outside it, none for fp8."""
    profile = load_stack(name)
    assert searched_dtypes(profile, EVERY, "auto") == ["bf16", "fp8"]
    for dtype in ("mxfp8", "nvfp4"):
        with pytest.raises(InputError, match=f"--dtype {dtype}: stack {name} trains in bf16, fp8"):
            searched_dtypes(profile, EVERY, dtype)
        assert stack_dtype_notes(profile, dtype)
    assert not stack_dtype_notes(profile, "fp8") and not stack_dtype_notes(profile, "bf16")


def test_search_cli_refuses_nvfp4_under_deepspeed(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["search", "llama3-8b", "--system", "dgx-b200", "--gpus", "16", "--seq-len", "4096",
                     "--global-batch", "64", "--stack", "deepspeed", "--dtype", "nvfp4"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "stack deepspeed trains in bf16, fp8" in err


KIMI_PLAN = dict(tp=2, pp=16, ep=32, etp=1, seq_len=4096, global_batch=4096, recompute="full")


def test_kimi_k25_runs_its_recipe_layouts_on_nemo() -> None:
    """Kimi K2.5 (K2's 61 layers, a 256K max_seq_len) runs Megatron-Bridge 0.6.0's recommended TP2 PP16 EP32 on
    nemo-26.04, as K2 does (the same figures, recipe settings and step); without its recipe PP16 is refused."""
    k25 = estimate_training("kimi-k2.5", "dgx-h100-superpod", 512, stack="nemo-26.04", **KIMI_PLAN)  # type: ignore[arg-type]
    k2 = estimate_training("kimi-k2", "dgx-h100-superpod", 512, stack="nemo-26.04", **KIMI_PLAN)  # type: ignore[arg-type]
    assert k25.step_time_s == k2.step_time_s and any("kimi_k25_vl.py" in n for n in k25.notes)
    without = NEMO.model_copy(update={"model_recipes": tuple(r for r in NEMO.model_recipes
                                                             if r.model != "kimi-k2.5")})
    with pytest.raises(InputError, match="do not divide the model's 61 layers"):
        estimate_training("kimi-k2.5", "dgx-h100-superpod", 512, stack=without, **KIMI_PLAN)  # type: ignore[arg-type]


V32_PLAN = dict(pp=8, ep=64, seq_len=4096, global_batch=2048, dtype="mxfp8")


def test_deepseek_v32_refusal_names_the_laid_out_models(tmp_path: Path) -> None:
    """DeepSeek-V3.2 at PP 8 on nemo-26.04: refused by Megatron-Core's even split (no recipe lays it out: Megatron-
    Bridge 0.6.0 ships none), and the line says which models the stack's recipes lay out and how to lay it out; a
    stack file with that layout runs it. DeepSeek-V3 at an unlaid PP x VP lists its own layouts, not that line."""
    with pytest.raises(InputError) as refused:
        estimate_training("deepseek-v3.2", "gb200-nvl72-superpod", 512, stack="nemo-26.04", **V32_PLAN)  # type: ignore[arg-type]
    said = str(refused.value)
    assert "stack nemo-26.04's model recipes lay out deepseek-v3, kimi-k2, kimi-k2.5 of 61 layers too" in said
    assert "a stack file (extends: nemo-26.04) with pipeline_layouts lays it out" in said
    laid = tmp_path / "v32.yaml"
    laid.write_text('extends: nemo-26.04\nname: v32-layout\npipeline_layouts: ["Et*8|(t*8|)*6t*5L"]\n',
                    encoding="utf-8")
    assert estimate_training("deepseek-v3.2", "gb200-nvl72-superpod", 512, stack=str(laid),  # type: ignore[arg-type]
                             **V32_PLAN).step_time_s > 0
    with pytest.raises(InputError) as own:
        estimate_training("deepseek-v3", "gb200-nvl72-superpod", 512, stack="nemo-26.04", vpp=4, **V32_PLAN)  # type: ignore[arg-type]
    assert "or a pipeline layout of the stack at PP x VPP 4 x 1" in str(own.value)
    assert "model recipes lay out" not in str(own.value)


@pytest.mark.parametrize(("stack", "schedule", "batch"),
                         [("deepseek-v3", "dualpipe", 1024), ("torchtitan", "zb-v", 512)])
def test_mfu_guard_flags_and_ranks_dualpipe_and_zbv_plans(stack: str, schedule: str, batch: int) -> None:
    """Llama 3 8B, 64 H100, bf16, seq 8,192: the schedule's plans above Hopper bf16's published ceiling are flagged
    and ranked after the plans within it (or within the memory margin), as `train` flags the same plan."""
    found = search_plans("llama3-8b", "dgx-h100-superpod", 64, 8192, batch, dtype="bf16", top=100_000, stack=stack,
                         compare_dtypes=False, schedules=(schedule,))
    tier = [row.beyond_published_mfu or row.low_memory_headroom for row in found.top]
    assert tier == sorted(tier)
    rows = [row for row in found.top if row.config.schedule == schedule]
    over = [row for row in rows if row.beyond_published_mfu]
    within = [row for row in rows if not row.beyond_published_mfu]
    assert over and within and min(r.mfu for r in over) > max(r.mfu for r in within)
    assert min(r.step_time_s for r in over) < found.best.step_time_s  # type: ignore[union-attr]  # faster, after
    for row in (over[0], within[0]):
        c = row.config
        alone = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep,
                                  vpp=c.vpp, micro_batch=c.micro_batch, global_batch=c.global_batch,
                                  seq_len=c.seq_len, recompute=c.recompute, zero=c.zero, dtype=c.dtype,
                                  order=c.order, schedule=c.schedule, stack=stack)
        assert alone.beyond_published_mfu == row.beyond_published_mfu and alone.mfu == row.mfu


MODEL = "qwen3-30b-a3b"  # h 2,048, 32 q / 4 kv heads of 128, 128 experts of 768


def _stack(delay: bool = True, fused: bool = True, mtp: int = 0) -> Stack:
    """nemo-26.04 with the combined 1F1B (TP userbuffers off), the deferral, fusion and MTP modules as asked."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": delay})
    return NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False, "tp_comm_overlap_fraction": 0.0,
                                   "tp_overlap_sm_fraction": 0.0, "gradient_accumulation_fusion": fused,
                                   "mtp_num_layers": mtp})


def _plan(shape: object, ep: int) -> PlanArrays:
    """One plan of 64 GPUs: TP2 with SP, EP `ep`, PP 1, micro-batch 1, no recompute, bf16, seq 4,096."""
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == 2) & (rows.ep == ep) & (rows.pp == 1) & (rows.cp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.sequence_parallel == 1) & (rows.zero == 1))
    return rows.take(np.flatnonzero(keep)[:1])


def _high(shape: object, plan: PlanArrays, stack: Stack) -> float:
    return float(memory_bound_terms(shape, plan, stack, "activations")["activations_high"][0])  # type: ignore[arg-type]


def _activations(shape: object, plan: PlanArrays, stack: Stack) -> float:
    return float(memory_breakdown(shape, plan, stack)["activations"][0])  # type: ignore[arg-type]


def test_bound_takes_the_mtp_layers_held_set_once() -> None:
    """Top-1 Qwen3-30B-A3B, TP2 SP EP8, deferred, one MTP module: the high bound grows by the MTP module's
    activations and eh_proj's held output gradient + gathered input once (hD67's bound added them twice), and at
    PP 1 equals the priced activations."""
    shape = load_model(MODEL).model_copy(update={"experts_per_token": 1})
    plan = _plan(shape, 8)
    eh_proj = 4096.0 * 2048 / 2 * 2.0 + 4096.0 * 2 * 2048 * 2.0
    grown = _high(shape, plan, _stack(mtp=1)) - _high(shape, plan, _stack())
    assert grown == pytest.approx(float(mtp_activation_bytes(shape, plan, _stack(mtp=1))[0]) + eh_proj, rel=1e-12)
    assert _high(shape, plan, _stack(mtp=1)) == pytest.approx(_activations(shape, plan, _stack(mtp=1)), rel=1e-12)


def test_plain_linear_wgrad_written_while_its_store_runs() -> None:
    """Top-1 Qwen3-30B-A3B TP2 SP EP32 (4 local experts: the attention's store the larger), deferred, fusion off:
    qkv's store runs first (attention.py:1495-1496), so its fresh bf16 wgrad (2,048 x 2,560) sits beside qkv's
    and proj's held tensors: the peak grows by exactly that. Fused, or the toggle off: nothing. A grid equals each
    plan alone; the search's bounds bracket it."""
    shape = load_model(MODEL).model_copy(update={"experts_per_token": 1})
    plan = _plan(shape, 32)
    qkv_held = 4096.0 * 2560 * 2 + 4096.0 * 2048 * 2  # output gradient + SP-gathered input
    proj_held = 4096.0 * 2048 * 2
    assert float(deferred_wgrad_memory.held_wgrad_bytes(shape, plan, _stack(fused=False))[0]) == pytest.approx(
        qkv_held + proj_held + 2048.0 * 2560 * 2, rel=1e-12)
    with_wgrad = _activations(shape, plan, _stack(fused=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred_wgrad_memory, "PLAIN_WGRAD_IN_STORE", False)
        assert float(deferred_wgrad_memory.held_wgrad_bytes(shape, plan, _stack(fused=False))[0]) == pytest.approx(
            qkv_held + proj_held, rel=1e-12)
        clear_one_plan_memo()
        without = _activations(shape, plan, _stack(fused=False))
        fused = _activations(shape, plan, _stack())
    clear_one_plan_memo()
    assert with_wgrad - without == pytest.approx(2048.0 * 2560 * 2, rel=1e-9)
    assert _activations(shape, plan, _stack()) == fused  # (fused: no fresh wgrad, the toggle reads nothing)
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16", "fp8"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows))[::7][:60])
    stack = _stack(fused=False)
    grid = memory_breakdown(shape, rows, stack)["activations"]
    alone = [float(memory_breakdown(shape, rows.take([i]), stack)["activations"][0]) for i in range(len(rows))]
    assert np.array_equal(grid, np.array(alone))
    bounds = memory_bound_terms(shape, rows, stack, "activations")
    assert np.all(bounds["activations_high"] >= grid) and np.all(bounds["activations_low"] <= grid)
