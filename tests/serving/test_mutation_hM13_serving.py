"""Mutation wave 13 (hM13, session 41) on session 40's serving code: the attention-DP balance's switch and its idle
count (`serving.adp_balance`), and the serving formats' weight-read rates (`ops.precision.SERVING_FORMATS`).

References, not the module's formulas: the gate's `idle(k, every_gen)` is k iterations in which no rank has a
context request, so it must leave the gate as k calls of `admits` with no context request do (TensorRT-LLM's
`_balance_adp_requests` runs every iteration; the simulator leaps a decode stretch and counts it at once).
"""

from __future__ import annotations

import random

import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_profile import AttentionDpBalance
from infraplan.network.collectives import Fabric
from infraplan.serving import adp_balance, decode_kernels
from infraplan.serving.adp_balance import BalanceGate, balance_of
from infraplan.serving.engines import serving_profile
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

ON = AttentionDpBalance(enabled=True, timeout_iterations=5, batching_wait_iterations=2)


def _with_profile(monkeypatch: pytest.MonkeyPatch, balance: AttentionDpBalance) -> None:
    shipped = serving_profile("trtllm-0.x")
    assert shipped is not None
    monkeypatch.setattr(adp_balance, "serving_profile",
                        lambda stack: shipped.model_copy(update={"attention_dp_balance": balance}))


def test_two_attention_dp_ranks_balance_and_a_pipeline_or_a_disabled_config_does_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two attention-DP ranks are several ranks (the balance applies); a pipeline (PP 2: the lock-step ranks' loop
    models PP 1) and `enable_balance: false` (the engine's default) leave it off."""
    _with_profile(monkeypatch, ON)
    two = Deployment(tp=1, ep=2, attention_dp=2, dtype="fp8", kv_dtype="fp8", engine="trtllm", stack="trtllm-0.x")
    assert balance_of(two) == ON
    assert balance_of(Deployment(tp=1, pp=2, ep=2, attention_dp=2, dtype="fp8", kv_dtype="fp8", engine="trtllm",
                                 stack="trtllm-0.x")) is None
    _with_profile(monkeypatch, ON.model_copy(update={"enabled": False}))
    assert balance_of(two) is None


def _drive(gate: BalanceGate, steps: list[tuple[str, int, bool, bool]], leap: bool) -> list[bool]:
    """Run `steps` on `gate`: ("idle", k, every rank decoding, _) k iterations without a context request, or
    ("admit", ranks with a context request, every rank decoding, a free slot) one iteration; returns the
    decisions. `leap`: the idle stretches counted at once (`idle`), else iteration by iteration (`admits`)."""
    out = []
    for kind, n, every_gen, free in steps:
        generation = [1, 1] if every_gen else [1, 0]
        if kind == "idle":
            if leap:
                gate.idle(n, every_gen)
            else:
                for _ in range(n):
                    gate.admits([0, 0], generation, 8)  # (nothing to run: its decision is not one)
        else:
            context = [1, 1] if n == 2 else [1, 0]
            out.append(gate.admits(context, generation if free else [8, 1] if every_gen else [8, 0], 8))
    return out


def test_a_leapt_idle_stretch_counts_as_its_iterations_one_by_one() -> None:
    """Random stretches of idle decode iterations (every rank decoding or not) between single iterations with one
    or both ranks' context requests: the gate's decisions and counter are those of running each idle iteration
    through `admits` (the engine's own loop)."""
    rng = random.Random(13)
    for _ in range(300):
        steps = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                steps.append(("idle", rng.randint(1, 12), rng.random() < 0.7, True))
            else:
                steps.append(("admit", rng.choice([1, 2]), rng.random() < 0.7, rng.random() < 0.8))
        leapt, stepped = BalanceGate(ON), BalanceGate(ON)
        assert _drive(leapt, steps, True) == _drive(stepped, steps, False), steps
        assert (leapt.waited, leapt.batched) == (stepped.waited, stepped.batched), steps


def test_an_idle_stretch_with_a_rank_out_of_work_restarts_the_wait() -> None:
    """Two held iterations (one rank's context request, every rank decoding) count 2; an idle stretch in which a
    rank has no generation request restarts the counter (each such iteration would admit at once), so the next
    lone context request waits the whole timeout of 5 again: held 4 times, run on the 5th."""
    gate = BalanceGate(ON)
    assert [gate.admits([1, 0], [1, 1], 8) for _ in range(2)] == [False, False]
    gate.idle(3, every_gen=False)
    assert gate.waited == 0
    assert [gate.admits([1, 0], [1, 1], 8) for _ in range(5)] == [False, False, False, False, True]


def _decode_s(part: str, system: str, dtype: str) -> float:
    accelerator = load_accelerator(part)
    fabric = Fabric.from_system(load_system(system), accelerator)
    cost = build_iteration_cost(load_model("llama3-70b"), accelerator, fabric,
                                Deployment(tp=8, dtype=dtype, token_budget=8192))
    return float(decode_time(cost, 4, 2000))  # 4 sequences: the weight reads bind


@pytest.mark.parametrize(("part", "system", "measured"), [("h100-sxm", "dgx-h100-superpod", ("bf16", "fp8")),
                                                          ("b200", "dgx-b200", ("bf16", "fp8", "nvfp4"))])
def test_only_measured_weight_formats_read_at_their_measured_rate(monkeypatch: pytest.MonkeyPatch, part: str,
                                                                  system: str, measured: tuple[str, ...]) -> None:
    """The catalogs measure small-M weight reads for bf16 and fp8 (H100) and nvfp4 too (B200) only
    (AIConfigurator's GEMM tables): int4 and mxfp4 weights are read at the plain bandwidth fraction, so turning the
    measured reads off (`decode_kernels.MEASURED_WEIGHT_READS`) moves their decode step by the bf16 LM head's share
    alone, the same for the two, and a measured format's by its weights' reads too. int8 (W8A8) reads at fp8's
    measured rate (`ops.precision.SERVING_FORMATS`, hQ69): it moves as fp8 does."""
    dtypes = (*measured, "int8", "int4", "mxfp4")
    on = {d: _decode_s(part, system, d) for d in dtypes}
    monkeypatch.setattr(decode_kernels, "MEASURED_WEIGHT_READS", False)
    moved = {d: on[d] - _decode_s(part, system, d) for d in dtypes}
    head = moved["int4"]
    assert head != 0.0
    assert moved["mxfp4"] == pytest.approx(head, rel=1e-9, abs=1e-15)
    assert moved["int8"] == pytest.approx(moved["fp8"], rel=1e-9, abs=1e-15)
    for d in (*measured, "int8"):
        assert abs(moved[d] - head) > 1e-2 * abs(head), d
