"""Mutation wave hM21 (session 44): the executed FLOPs' selective recompute and sink kernels, the above-100 % note,
and the published-MFU guard's convention at `train` (`training.flops`, `training.results.published_mfu_flag`).

Hand counts use Llama 3 8B's config (L 32, 32 heads of 128): a fused kernel's forward attention core per token per
layer is 2 s heads d over the causal triangle (hF45's count), the unfused one 4 s heads d (the full s x s, Narayanan
et al. SC'21); a selective recompute re-runs the core's forward (Korthikanti et al. 2022). GPT-OSS learns a sink
per head (its config); a stack whose sink kernel is unfused runs its attention unfused.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.catalog.stacks import load_stack
from infraplan.training import estimate as estimate_module
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.flops import executed_flops_per_step, flop_convention_note
from infraplan.training.plan import PlanArrays
from infraplan.training.results import published_mfu_flag

L, HEADS, D, H, V = 32, 32, 128, 4096, 128_256
LAYER_WEIGHTS = 4096 * (4096 + 2 * 1024 + 4096) + 3 * 4096 * 14336
SEQ, BATCH = 8192, 4
STACK = load_stack("nemo-26.04")  # sink_attention fused, recompute_modules [core_attn]


def _plan(recompute: Recompute = Recompute.NONE, attention: Attention = Attention.FLASH) -> PlanArrays:
    return PlanArrays.build(tp=1, pp=1, dp=1, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=BATCH, seq_len=SEQ,
                            recompute=recompute, zero=1, dtype=Dtype.BF16, attention=attention)


def _executed(model: str, plan: PlanArrays, stack: object) -> float:
    return float(np.ravel(executed_flops_per_step(load_model(model), plan, stack))[0])  # type: ignore[arg-type]


def test_selective_recompute_reruns_the_fused_core_forward_without_a_stack() -> None:
    """No stack: Megatron's selective recompute (the core) is assumed; + L x 2 s heads d per token."""
    rerun = L * 2.0 * SEQ * HEADS * D * BATCH * SEQ
    none = _executed("llama3-8b", _plan(), None)
    assert _executed("llama3-8b", _plan(Recompute.SELECTIVE), None) - none == pytest.approx(rerun, rel=1e-9)
    assert _executed("llama3-8b", _plan(Recompute.SELECTIVE), STACK) == pytest.approx(none + rerun, rel=1e-12)
    mlp_only = STACK.model_copy(update={"recompute_modules": ("mlp",)})
    assert _executed("llama3-8b", _plan(Recompute.SELECTIVE), mlp_only) == pytest.approx(none, rel=1e-12)


def test_an_unfused_sink_kernel_runs_sink_models_unfused_only() -> None:
    """GPT-OSS on a stack whose sink kernel is unfused runs as an unfused plan does; Llama 3 (no sinks) runs the
    same FLOPs on either stack; the fused sink kernel runs fewer (the causal triangle)."""
    unfused_sinks = STACK.model_copy(update={"sink_attention": "unfused"})
    as_unfused = _executed("gpt-oss-20b", _plan(attention=Attention.UNFUSED), STACK)
    assert _executed("gpt-oss-20b", _plan(), unfused_sinks) == pytest.approx(as_unfused, rel=1e-12)
    assert _executed("gpt-oss-20b", _plan(), STACK) < 0.99 * as_unfused
    assert _executed("llama3-8b", _plan(), unfused_sinks) == _executed("llama3-8b", _plan(), STACK)
    by_hand = (6.0 * L * LAYER_WEIGHTS + 3.5 * 2.0 * L * HEADS * D * SEQ + 6.0 * H * V) * BATCH * SEQ
    assert _executed("llama3-8b", _plan(), unfused_sinks) == pytest.approx(by_hand, rel=1e-9)


def test_the_note_names_either_figure_above_100_percent_and_not_100_itself() -> None:
    hfu_only = flop_convention_note(0.95, 1.04, 0.8)
    assert hfu_only is not None and "MFU 95.0 % / HFU 104.0 %" in hfu_only and "use 80.0 % of peak" in hfu_only
    assert flop_convention_note(1.0, 1.0, 0.7) is None  # 100 % is not above it
    assert flop_convention_note(0.5, 0.6, 0.4) is None


def test_a_plan_at_the_published_figure_is_not_beyond_it() -> None:
    """Predicted 43 % against Llama 3's published 43 %: at it, not beyond it; a ceiling that states no convention
    is compared as infraplan's own MFU (full scores), as one that says so."""
    ceiling = PublishedMfu(family="hopper", stack="megatron", dtype="bf16", mfu=0.43, flop_convention="full_scores",
                           source="test")
    assert published_mfu_flag(0.43, ceiling) == {}
    assert published_mfu_flag(0.4301, ceiling)["beyond_published_mfu"] is True
    unstated = PublishedMfu(family="hopper", stack="megatron", dtype="bf16", mfu=0.43, source="test")
    assert published_mfu_flag(0.44, unstated, causal_ratio=0.9) == published_mfu_flag(0.44, ceiling, causal_ratio=0.9)


def test_train_hands_the_guard_the_plans_causal_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """`train`'s guard reads the plan's causal ratio against a figure counted with the causal half: (6 N_layers + 6 L
    heads d s + 6 h V) over (6 N_layers + 12 L heads d s + 6 h V) for Llama 3 8B at s 8,192 (as `search` does);
    against a full-scores figure it is not read (1.0: `published_mfu_flag` ignores it there; hS70, session 49)."""
    seen: list[float] = []

    def spy(mfu: float, ceiling: object, consequence: str = "", causal_ratio: float = 1.0) -> dict[str, object]:
        seen.append(causal_ratio)
        return {}

    monkeypatch.setattr(estimate_module, "published_mfu_flag", spy)
    for convention in ("causal_scores", "full_scores"):
        figure = PublishedMfu(family="hopper", stack="megatron", dtype="bf16", mfu=0.43, source="test",
                              flop_convention=convention)  # type: ignore[arg-type]
        monkeypatch.setattr(estimate_module, "mfu_ceiling", lambda *args, figure=figure: figure)
        estimate_training("llama3-8b", "h100-sxm", 8, tp=8, seq_len=SEQ, global_batch=8)
    causal = 6.0 * L * LAYER_WEIGHTS + 6.0 * L * HEADS * D * SEQ + 6.0 * H * V
    full = 6.0 * L * LAYER_WEIGHTS + 12.0 * L * HEADS * D * SEQ + 6.0 * H * V
    assert seen == [pytest.approx(causal / full, rel=1e-12), 1.0]
