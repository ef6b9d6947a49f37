"""DeepSeek-V3's own pre-training plan on 2,048 H800 (arXiv:2412.19437 sec. 3.2) priced with its stack.

Measured (this tree): step 20.85 s, 2.79 M GPU-hours for 14.8T tokens (+4.7 % against 2.664 M, 81.5 GB per GPU, with
DualPipe's ranks paced on their mirrored stage pairs and the paper's one MTP module, session 35 hT2; -17.6 % paired
without MTP; before: 18.30 s, 2.45 M, -8.1 %; -7.5 % before round
14 priced DeepEP at its README's internode rate for the nodes spanned; -7.1 % before the 2026-12-02 round-13
changes, with DeepEP's internode rate counting the token's own node; -7.8 % before it; -9.7 %
before the blockwise fp8 GEMM rate, -5.8 % before the 2026-12-02 pipeline changes); with the EP ranks spread over 64
nodes (order tp-cp-pp-dp) the all-to-all crosses IB per expert and the step is ~25 s.
Memory: 72.2 GB per GPU of 85.5 GB with the paper's recompute modules, fp8 activation cache and bf16 Adam
moments (139.8 GB without them). The activation model does not count the grouped FC1 input (the k routed copies
of each token, `ops.params`): with it, 88.7 GB (fp8-cached) and 171.7 GB.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.training import estimate_training
from infraplan.training.results import TrainingEstimate

PRETRAIN_GPU_HOURS = 2.664e6  # arXiv:2412.19437 Table 1: 2,664K H800 GPU-hours of pre-training
TOKENS = 14.8e12
GPUS = 2048


def _estimate(stack: str | Stack = "deepseek-v3", schedule: str = "dualpipe",
              order: str = "tp-cp-dp-pp", recompute: str = "selective") -> TrainingEstimate:
    # EP64 over 8 nodes, PP16 across them: EP peers are neighbours (order tp-cp-dp-pp)
    return estimate_training("deepseek-v3", Cluster.for_accelerator("h800", GPUS), GPUS, tp=1, pp=16, ep=64,
                             seq_len=4096, global_batch=15360, micro_batch=1, recompute=recompute, zero=1,
                             dtype="fp8", schedule=schedule, stack=stack, order=order)


def test_deepseek_v3_full_run_gpu_hours_within_15_percent() -> None:
    result = _estimate()
    gpu_hours = TOKENS / result.tokens_per_s * GPUS / 3600.0
    assert gpu_hours == pytest.approx(PRETRAIN_GPU_HOURS, rel=0.15)


def test_dualpipe_hides_the_all_to_all_under_the_paired_chunk() -> None:
    """DualPipe overlaps a forward chunk's dispatch/combine with a backward chunk's compute (sec. 3.2.1): the
    forward all-to-all, longer than the forward compute, is hidden; 1F1B's per-phase window leaves it exposed."""
    dualpipe = _estimate().breakdown_s
    one_f_one_b = _estimate(schedule="1f1b").breakdown_s
    assert dualpipe.ep_comm == pytest.approx(0.0, abs=1e-9)
    assert one_f_one_b.ep_comm > 0.5


def test_fp8_dispatch_moves_fewer_bytes() -> None:
    """fp8 dispatch + bf16 combine (sec. 3.3.3) shortens the exposed all-to-all where it cannot all hide."""
    stack = load_stack("deepseek-v3")
    bf16 = stack.model_copy(update={"moe": stack.moe.model_copy(update={"fp8_dispatch": False})})
    wide = "tp-cp-pp-dp"  # EP over 64 nodes: the all-to-all outlasts the compute
    assert _estimate(stack, order=wide).breakdown_s.ep_comm < 0.8 * _estimate(bf16, order=wide).breakdown_s.ep_comm


def _without_memory_savings() -> Stack:
    return load_stack("deepseek-v3").model_copy(update={"recompute_modules": ("core_attn",),
                                                        "fp8_activation_cache": (), "adam_moment_dtype": "fp32"})


def test_paper_recompute_modules_and_fp8_cache_make_the_plan_fit() -> None:
    """Recomputing the norms, MLA up-projections and SwiGLU output, caching the projection and SwiGLU inputs in
    fp8 (sec. 3.2.3, 3.3.3) and bf16 Adam moments cut the activations to under 40 % and fit the H800's 80 GiB."""
    paper, plain = _estimate(), _estimate(_without_memory_savings())
    assert paper.memory_breakdown_bytes.activations < 0.4 * plain.memory_breakdown_bytes.activations
    assert paper.memory_breakdown_bytes.optimizer == pytest.approx(plain.memory_breakdown_bytes.optimizer * 8 / 12)
    assert paper.fits and not plain.fits
    assert plain.memory_per_gpu_bytes > 1.5 * paper.memory_capacity_bytes


def test_recomputed_modules_cost_their_forward_in_the_backward() -> None:
    """The re-run up-projections, norms and SwiGLU lengthen the step by a little (their forward, ~1-3 %)."""
    paper, plain = _estimate().step_time_s, _estimate(_without_memory_savings()).step_time_s
    assert 1.005 * plain < paper < 1.05 * plain


def test_modules_apply_only_under_selective_recompute() -> None:
    """Megatron-Core reads `recompute_modules` only with selective granularity: with none, nothing is dropped."""
    none = _estimate(recompute="none").memory_breakdown_bytes.activations
    selective = _estimate().memory_breakdown_bytes.activations
    assert selective < 0.6 * none


def test_train_tokens_on_the_command_line_reproduces_the_full_run() -> None:
    """Issue 13: `infraplan train deepseek-v3 --system h800 --gpus 2048 ... --tokens 14.8e12` (an accelerator preset
    at any size: the generic H800 cluster of 2,048) gives the run's GPU-hours, failures included, within 15 % of
    the 2.664 M DeepSeek reports; the named DualPipe schedule is kept (no interleave chosen over it)."""
    import json

    from typer.testing import CliRunner

    from infraplan.cli.main import app

    args = ["train", "deepseek-v3", "--system", "h800", "--gpus", "2048", "--tp", "1", "--pp", "16", "--ep", "64",
            "--schedule", "dualpipe", "--order", "tp-cp-dp-pp", "--seq-len", "4096", "--global-batch", "15360",
            "--dtype", "fp8", "--recompute", "selective", "--zero", "1", "--stack", "deepseek-v3",
            "--tokens", "14.8e12", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["config"]["schedule"] == "dualpipe" and data["config"]["vpp"] == 1 and data["fits"]
    assert data["gpu_hours"] == pytest.approx(2.664e6, rel=0.15)
