"""Muon as an optimizer of its own (`training.optimizers`, hJ60): its state memory, its Newton-Schulz FLOPs and
time, the ZeRO stages it runs with, the Kimi K2 recipe's default and the `--optimizer` option's refusals."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.loader import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cli import main
from infraplan.hardware.kernels import KernelRates
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.optimizers import (
    layer_matrices,
    newton_schulz_flops,
    newton_schulz_terms,
    with_optimizer,
)
from infraplan.training.stack_limits import zero_stages

# Llama 3 8B on one H100 node, no model parallelism: every GPU holds every parameter
PLAN = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, dp=8, seq_len=4096, global_batch=64)


def _memory(optimizer: str, zero: int) -> dict[str, float]:
    return dict(estimate_training(**PLAN, zero=zero, optimizer=optimizer).memory_breakdown_bytes)  # type: ignore[arg-type]


@pytest.mark.parametrize("zero", [0, 1])
def test_muon_state_is_8_bytes_a_matrix_parameter_and_adams_12_on_the_tables(zero: int) -> None:
    """By hand: Adam keeps 12 B a parameter (fp32 master, m, v); Muon 8 B on the decoder's matrices (master and
    one fp32 momentum) and AdamW's 12 B on the untied embedding and LM head (V x h each); ZeRO-1 shards both over
    the 8 DP ranks. Weights and gradients do not move."""
    shape = load_model("llama3-8b")
    adam, muon = _memory("adam", zero), _memory("muon", zero)
    ranks = 8.0 if zero else 1.0
    params = adam["optimizer"] * ranks / 12.0  # every parameter on the GPU (TP 1, PP 1)
    tables = 2.0 * shape.vocab_size * shape.hidden_size
    assert params > 8e9  # (Llama 3 8B: 8.03 B)
    assert muon["optimizer"] == pytest.approx((8.0 * (params - tables) + 12.0 * tables) / ranks, rel=1e-12)
    assert muon["weights"] == adam["weights"] and muon["gradients"] == adam["gradients"]


def test_newton_schulz_flops_by_hand() -> None:
    """One iteration on an m x n matrix (m <= n): X X^T (2 m^2 n), b A + c A A (2 m^3), a X + B X (2 m^2 n)."""
    m, n = 4096.0, 14336.0
    assert newton_schulz_flops(m, n, 5) == 5 * (2 * m * m * n + 2 * m**3 + 2 * m * m * n)
    assert newton_schulz_flops(n, m, 5) == newton_schulz_flops(m, n, 5)  # orthogonalised on the short side
    assert newton_schulz_flops(m, n, 1) == pytest.approx(newton_schulz_flops(m, n, 5) / 5)


@pytest.mark.parametrize("tp", [1, 2])
def test_llama3_8b_layer_matrices_by_hand(tp: int) -> None:
    """Llama 3 8B's layer on one GPU at TP: Q (4096 / TP x 4096), K and V (8 heads x 128 / TP x 4096 each: Megatron's
    split QKV), O (4096 x 4096 / TP), the fused gate + up (2 x 14336 / TP x 4096) and down (4096 x 14336 / TP), each
    TP shard orthogonalised on its own ('blockwise'); the per-parameter terms are their sums over their parameters."""
    shape = load_model("llama3-8b")
    plan = resolve_training(**{**PLAN, "tp": tp, "dp": 8 // tp}).plan.one_row  # type: ignore[arg-type]
    by_hand = [(4096 / tp, 4096), (1024 / tp, 4096), (1024 / tp, 4096), (4096, 4096 / tp), (28672 / tp, 4096),
               (4096, 14336 / tp)]
    got = sorted((float(r), float(c)) for r, c, many in layer_matrices(shape, plan) for _ in range(int(many)))
    assert got == sorted(by_hand)
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    terms = newton_schulz_terms(shape, plan, rates, with_optimizer(load_stack("nemo-26.04"), "muon"))
    params = sum(r * c for r, c in by_hand)
    assert terms["newton_schulz_flops_per_param"] * params == pytest.approx(
        sum(newton_schulz_flops(r, c, 5) for r, c in by_hand), rel=1e-12)
    assert terms["matrices_per_param"] * params == pytest.approx(6.0)
    # the GEMMs no faster than the bf16 peak: at least the FLOPs at the part's GEMM rate
    assert terms["newton_schulz_s_per_param"] >= terms["newton_schulz_flops_per_param"] / rates.matmul_flops_per_s
    assert newton_schulz_terms(shape, plan, rates, load_stack("nemo-26.04")) == {}  # Adam: none


def test_muon_step_prices_newton_schulz_and_the_zero_stages_it_runs() -> None:
    """Muon's optimizer step is the Newton-Schulz GEMMs on top of a memory-bound pass: ZeRO 0 (every rank
    orthogonalises every matrix) costs about DP times ZeRO-1's layer-wise share; the rest of the step is Adam's.
    Muon runs ZeRO 0 and 1 only (Megatron-Core refuses it with the distributed optimizer's sharding)."""
    adam = estimate_training(**PLAN, zero=1)  # type: ignore[arg-type]
    muon0 = estimate_training(**PLAN, zero=0, optimizer="muon")  # type: ignore[arg-type]
    muon1 = estimate_training(**PLAN, zero=1, optimizer="muon")  # type: ignore[arg-type]
    a, m0, m1 = dict(adam.breakdown_s), dict(muon0.breakdown_s), dict(muon1.breakdown_s)
    assert m1["optimizer"] > 5.0 * a["optimizer"]
    assert m0["optimizer"] == pytest.approx(8.0 * m1["optimizer"], rel=0.05)
    # (`other` within an ulp: the breakdown's closing to the step's bits, `host_row._closing`; hC61's exposed gather)
    assert m1["compute"] == a["compute"] and m1["other"] == pytest.approx(a["other"], rel=1e-12)
    assert adam.optimizer == "adam" and muon1.optimizer == "muon"
    assert any("optimizer muon" in note for note in muon1.notes)
    muon_stack = with_optimizer(load_stack("nemo-26.04"), "muon")
    assert zero_stages(muon_stack) == (0, 1) and zero_stages(muon_stack, piped=True) == (0, 1)
    assert zero_stages(load_stack("nemo-26.04")) == (0, 1, 2, 3)


def test_kimi_k2_recipe_steps_with_muon() -> None:
    """Megatron-Bridge's kimi_k2_pretrain_config defaults to Muon (kimi_k2.py:53): the stack's recipe says so, and
    `--optimizer adam` prices Adam with a note that the recipe's other settings stay."""
    assert resolve_stack("nemo-26.04", "training", "kimi-k2").optimizer == "muon"
    assert resolve_stack("nemo-26.04", "training", "deepseek-v3").optimizer == "adam"
    kimi = dict(model="kimi-k2", system="dgx-h100-superpod", gpus=1024, tp=2, pp=16, ep=32, seq_len=4096,
                global_batch=4096, recompute="selective")
    muon = estimate_training(**kimi)  # type: ignore[arg-type]
    adam = estimate_training(**kimi, optimizer="adam")  # type: ignore[arg-type]
    assert muon.optimizer == "muon" and adam.optimizer == "adam"
    assert dict(muon.memory_breakdown_bytes)["optimizer"] < 0.75 * dict(adam.memory_breakdown_bytes)["optimizer"]
    assert dict(muon.breakdown_s)["optimizer"] > dict(adam.breakdown_s)["optimizer"]
    assert any("in place of the kimi-k2 recipe's muon" in note for note in adam.notes)


def test_search_row_reruns_with_its_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    """A `search --optimizer muon` row's train command carries the option and gives the row's step time."""
    assert main(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "16", "--seq-len", "4096",
                 "--global-batch", "64", "--dtype", "bf16", "--top", "1", "--optimizer", "muon", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    best = found["best"]
    assert found["optimizer"] == "muon" and best["config"]["zero"] in (0, 1)
    command = best["train_command"].split()
    assert command[-2:] == ["--optimizer", "muon"]
    assert main([*command[1:], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["step_time_s"] == best["step_time_s"]


@pytest.mark.parametrize(("extra", "words"), [
    (["--optimizer", "sgd"], "--optimizer must be one of adam, muon, got 'sgd'"),
    (["--optimizer", "muon", "--stack", "torchtitan"], "ships no Muon as modelled"),
])
def test_optimizer_option_refuses_in_one_line(capsys: pytest.CaptureFixture[str], extra: list[str],
                                              words: str) -> None:
    """A bad --optimizer is one line and exit code 2, on train and search alike."""
    for command in (["train", "llama3-8b", "--gpus", "8"], ["search", "llama3-8b", "--gpus", "8"]):
        assert main([*command, "--system", "dgx-h100-superpod", "--seq-len", "4096", "--global-batch", "64",
                     *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err
