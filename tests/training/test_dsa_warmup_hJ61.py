"""DeepSeek Sparse Attention's dense warm-up stage (`train --dsa-stage warmup`, `training.dsa_warmup`, hJ61): the
main model frozen and forward only with dense MLA, the lightning indexer alone trained (its forward, the KL target's
score pass and its backward over every causal key, its gradients all-reduced, AdamW on it alone)."""

from __future__ import annotations

import json
import math

import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.training import dsa_warmup
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.evaluation import forward_batch_s
from infraplan.training.one_plan_memo import cluster_pricing

PLAN = dict(tp=8, ep=16, global_batch=16, dtype="fp8", recompute="full", zero=1, stack="deepseek-v3")


def _pair(seq: int) -> tuple:  # type: ignore[type-arg]
    sparse = estimate_training("deepseek-v3.2", "h800", 128, seq_len=seq, **PLAN)
    warmup = estimate_training("deepseek-v3.2", "h800", 128, seq_len=seq, dsa_stage="warmup", **PLAN)
    return sparse, warmup


def test_warmup_step_is_a_forward_and_the_indexer_at_4k() -> None:
    """At 4K tokens the dense attention is cheap: the frozen model's forward and the indexer's work cost less than
    the sparse stage's full forward and backward; the memory holds no main-model gradients or optimizer states."""
    sparse, warmup = _pair(4096)
    assert (sparse.dsa_stage, warmup.dsa_stage) == ("sparse", "warmup")
    assert warmup.step_time_s < 0.7 * sparse.step_time_s
    s_mem, w_mem = dict(sparse.memory_breakdown_bytes), dict(warmup.memory_breakdown_bytes)
    assert w_mem["weights"] == s_mem["weights"]  # the frozen weights are still held
    assert w_mem["gradients"] < 0.15 * s_mem["gradients"] and w_mem["optimizer"] < 0.15 * s_mem["optimizer"]
    assert warmup.memory_per_gpu_bytes < sparse.memory_per_gpu_bytes
    assert warmup.mfu_flop_convention == dsa_warmup.WARMUP_FLOP_CONVENTION
    assert any("dense warm-up stage priced" in n for n in warmup.notes)
    assert not any(n.startswith("DeepSeek Sparse Attention priced in its sparse") for n in warmup.notes)


def test_indexer_only_state_and_step() -> None:
    """The trained parameters, the gradients' and optimizer's bytes and the optimizer's seconds are the indexer's."""
    shape = load_model("deepseek-v3.2")
    sparse, warmup = _pair(4096)
    per_layer = shape.q_lora_rank * 64 * 128 + shape.hidden_size * (128 + 64)  # wq_b, wk, weights_proj
    layers = shape.num_layers + 1  # and the deepseek-v3 stack's MTP module's indexer (hC62)
    assert warmup.trainable_params_count == per_layer * layers
    assert 0.8e9 < warmup.trainable_params_count < 0.9e9  # the 0.85 B the catalog entry states
    s_mem, w_mem = dict(sparse.memory_breakdown_bytes), dict(warmup.memory_breakdown_bytes)
    point = resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, **PLAN)
    share = per_layer * layers / float(dsa_warmup.local_params(shape, point.plan.one_row))  # PP 1: every layer
    assert w_mem["gradients"] == pytest.approx(s_mem["gradients"] * share, rel=1e-12)
    assert w_mem["optimizer"] == pytest.approx(s_mem["optimizer"] * share, rel=1e-12)
    s_step, w_step = dict(sparse.breakdown_s), dict(warmup.breakdown_s)
    assert 0.0 < w_step["optimizer"] < 0.05 * s_step["optimizer"]
    assert w_step["dp_comm_exposed"] > 0.0  # DP 16: the indexer's gradients all-reduced
    assert sum(w_step.values()) == pytest.approx(warmup.step_time_s, rel=1e-12)


def test_warmup_prices_the_frozen_forward_plus_the_indexer() -> None:
    """The step's compute is the dense model's forward-only pass plus the indexer's forward, KL target and backward
    on every layer and micro-batch; at 128K the indexer's dense work makes the warm-up step dearer than a sparse one."""
    point = resolve_training("deepseek-v3.2", "h800", 128, seq_len=131072, **PLAN)
    row = point.plan.one_row
    fwd, bwd = dsa_warmup.indexer_layer_seconds(point.shape, cluster_pricing(point.cluster, point.profile).rates, row)
    assert bwd > fwd > 0.0
    dense = resolve_training(dsa_warmup.dense_shape(point.shape), "h800", 128, seq_len=131072, **PLAN)
    frozen = forward_batch_s(dense, int(row.micro_batches))  # the forward-only step alone
    step = dsa_warmup.warmup_step(point)
    forward = sum(step[k] for k in ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "other",
                                    "host_exposed"))
    layers = (forward - frozen) / (row.micro_batches * (fwd + bwd))  # 61 layers and the MTP module's share
    assert point.shape.num_layers <= layers < point.shape.num_layers + 1.5
    sparse = estimate_training("deepseek-v3.2", "h800", 128, seq_len=131072, **PLAN)
    assert step["step_time_s"] > sparse.step_time_s > frozen


def test_pair_flops_by_hand() -> None:
    """Per query over k keys: the indexer's scores 2 x 64 x 128 FLOPs a key, 2x that backward, the target's 2 x 192
    x 128 heads."""
    fwd, bwd, target = dsa_warmup.warmup_pair_flops(load_model("deepseek-v3.2"), 1000.0)
    assert (fwd, bwd, target) == (16384e3, 32768e3, 2.0 * 192 * 128 * 1e3)


def test_refusals_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """warmup on a model without the indexer, an unknown stage, and warmup with --lora-rank: one line, exit 2."""
    base = ["train", "--system", "h800", "--gpus", "128", "--tp", "8", "--ep", "16", "--seq-len", "4096",
            "--global-batch", "16"]
    for model, extra, words in (("deepseek-v3", ["--dsa-stage", "warmup"], "deepseek-v3 has no lightning indexer"),
                                ("deepseek-v3.2", ["--dsa-stage", "dense"], "--dsa-stage takes sparse | warmup"),
                                ("deepseek-v3.2", ["--dsa-stage", "warmup", "--lora-rank", "8"],
                                 "does not take --lora-rank")):
        assert main([base[0], model, *base[1:], *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err
    with pytest.raises(InputError):
        dsa_warmup.check_stage(load_model("llama3-8b"), "warmup", False)
    assert dsa_warmup.check_stage(load_model("llama3-8b"), "sparse", False) is False


def test_cli_json_carries_the_stage(capsys: pytest.CaptureFixture[str]) -> None:
    """`train --dsa-stage warmup --json` gives the API's answer, `dsa_stage` and the trained parameters in it; a
    model without the indexer has no stage."""
    assert main(["train", "deepseek-v3.2", "--system", "h800", "--gpus", "128", "--tp", "8", "--ep", "16",
                 "--seq-len", "4096", "--global-batch", "16", "--dtype", "fp8", "--recompute", "full", "--zero", "1",
                 "--stack", "deepseek-v3", "--dsa-stage", "warmup", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dsa_stage"] == "warmup" and out["trainable_params_count"] > 0
    assert math.isclose(out["step_time_s"], _pair(4096)[1].step_time_s, rel_tol=1e-12)
    assert estimate_training("llama3-8b", "h800", 8, seq_len=4096, global_batch=8).dsa_stage is None


def test_sweep_batch_gives_the_single_answer() -> None:
    """The sweep's batched `train` prices a warm-up point as `estimate_training` does, and a `sparse` point (the
    default named) as the batch prices one without it."""
    from infraplan.sweep.functions import train_batch

    point = dict(model="deepseek-v3.2", system="h800", gpus=128, seq_len=4096, **PLAN)
    warm, sparse, bad = train_batch([{**point, "dsa_stage": "warmup"}, {**point, "dsa_stage": "sparse"},
                                     {**point, "model": "deepseek-v3", "dsa_stage": "warmup"}])
    alone_warm, alone_sparse = _pair(4096)[1], _pair(4096)[0]
    assert warm.model_dump() == alone_warm.model_dump()  # type: ignore[union-attr]
    assert sparse.model_dump() == alone_sparse.model_dump()  # type: ignore[union-attr]
    assert isinstance(bad, InputError)
