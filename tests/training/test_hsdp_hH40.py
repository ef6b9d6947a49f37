"""Hybrid sharding (HSDP, distributed-optimizer instances: `train --zero-shard N`, `training.hybrid_shard`): ZeRO over
N of the DP x CP ranks, the shard's gradients all-reduced across the DP x CP / N replicas after each reduce-scatter
(hH40, session 40). Llama 3 70B at TP 8 (PP 1) on 512 H100: DP 64, shard groups of N = 8, 8 replicas."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from typer.testing import CliRunner

from infraplan.catalog import load_model
from infraplan.cli.main import app
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.training import step_traffic
from infraplan.training.estimate import estimate_training
from infraplan.training.hybrid_shard import SEARCH_NOTE
from infraplan.training.moe_notes import search_notes
from infraplan.training.plan import PlanArrays
from infraplan.web.requests import TrainRequest
from infraplan.web.runners import run_train

# Llama 3 70B by hand (config.json: h 8192, 64 heads of 128, 8 KV heads, FFN 28672, 80 layers, vocabulary 128256,
# untied; norms left out as everywhere): one layer's matrices, and one GPU's at TP 8 with both tables
LAYER = 2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672  # q, o; k, v; gate, up, down
LOCAL = (80 * LAYER + 2 * 128256 * 8192) / 8  # 8,819,048,448 parameters per GPU
PLAN: dict[str, Any] = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=512, tp=8, pp=1, seq_len=8192,
                            global_batch=512, recompute="full")


def test_zero3_memory_shards_over_the_n_ranks_by_hand() -> None:
    """FSDP2 HSDP (torchtitan): parameters, fp32-reduced gradients and the 12 B/parameter optimizer state over the 8
    shard ranks, not the 64 of DP; the gathered layer ahead as before (2 x one layer in bf16)."""
    est = estimate_training(**PLAN, zero=3, stack="torchtitan", zero_shard=8)
    mem = est.memory_breakdown_bytes
    assert est.config.zero_shard == 8 and est.config.dp == 64
    assert mem.weights == pytest.approx(LOCAL / 8 * 2 + 2 * (LAYER / 8) * 2, rel=1e-12)
    # + FSDP2's unit gradients in a block's backward (hF69, `training.fsdp2_grad_memory`): a block's bf16 gradients
    # and the previous unit's fp32 reduce-scatter input, the output table's (128256 x 8192 / 8) the larger
    assert mem.gradients == pytest.approx(LOCAL / 8 * 4 + 2 * LAYER / 8 + 4 * 128256 * 8192 / 8, rel=1e-12)
    assert mem.optimizer == pytest.approx(LOCAL / 8 * 12, rel=1e-12)
    full = estimate_training(**PLAN, zero=3, stack="torchtitan").memory_breakdown_bytes
    assert full.optimizer == pytest.approx(LOCAL / 64 * 12, rel=1e-12)  # (over all of DP: 8 times less)


def _requests(monkeypatch: pytest.MonkeyPatch, zero: int, shard: int) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """The collectives `step_traffic.dp_collectives` prices for the plan at `zero` over `shard` ranks (kind, bytes,
    ranks, stride), each priced 1 s."""
    asked: list[tuple[Any, ...]] = []

    def record(fabric: object, kind: str, size: float, n: float, stride: float) -> float:
        asked.append((kind, size, n, stride))
        return 1.0

    monkeypatch.setattr(step_traffic, "collective_seconds", record)
    row = PlanArrays.one_plan(tp=8, pp=1, dp=64, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=512,
                              seq_len=8192, recompute=2, zero=zero, dtype=0, attention=0, order=0,
                              sequence_parallel=1, zero_shard=shard).one_row
    out = step_traffic.dp_collectives(load_model("llama3-70b"), None, row, LOCAL, 0.0, 4.0,  # type: ignore[arg-type]
                                      zero, None)
    return asked, out


def test_zero3_collectives_fsdp2_order_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per layer: the all-gather of its bf16 shard and the reduce-scatter of its fp32 gradients over the 8 shard
    ranks (8 apart: TP 8), then the all-reduce of the 1/8 shard over the 8 replicas, 64 ranks apart (FSDP2's
    foreach_reduce: reduce-scatter, then all-reduce over the replicate group), in the reduce-scatter's term."""
    asked, out = _requests(monkeypatch, 3, 8)
    per_layer = LOCAL / 80  # (the tables spread over the layers, as every ZeRO-3 plan)
    assert asked == [("reduce_scatter", per_layer * 4, 8.0, 8.0), ("all_gather", per_layer * 2, 8.0, 8.0),
                     ("all_reduce", per_layer * 4 / 8, 8.0, 64.0)]
    assert out["scatter_layers"] == 80 * 2.0 and out["gather_layers"] == 80 * 1.0  # (1 s each, per layer)
    assert out["allreduce"] == out["scatter"] == out["gather"] == 0.0
    default, _ = _requests(monkeypatch, 3, 0)
    # (all of DP: no all-reduce after the reduce-scatter)
    assert default == [("reduce_scatter", per_layer * 4, 64.0, 8.0), ("all_gather", per_layer * 2, 64.0, 8.0)]


def test_zero1_on_nemo_distributed_optimizer_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    """nemo-26.04 ZeRO-1 over 8 ranks (Megatron-Core num_distributed_optimizer_instances 8): the optimizer state
    over 8, gradients and weights whole; the reduce-scatter and gather within the instance, the shard's all-reduce
    across the 8 instances."""
    est = estimate_training(**PLAN, zero=1, stack="nemo-26.04", zero_shard=8)
    mem = est.memory_breakdown_bytes
    assert mem.optimizer == pytest.approx(LOCAL / 8 * 12, rel=1e-12)
    assert mem.weights == pytest.approx(LOCAL * 2, rel=1e-12)
    assert any(n.startswith("hybrid sharding: ZeRO-1 over 8 of the DP x CP 64 ranks") for n in est.notes)
    asked, out = _requests(monkeypatch, 1, 8)
    assert asked == [("reduce_scatter", LOCAL * 4, 8.0, 8.0), ("all_gather", LOCAL * 2, 8.0, 8.0),
                     ("all_reduce", LOCAL * 4 / 8, 8.0, 64.0)]
    assert out["scatter"] == 2.0 and out["gather"] == 1.0


def test_all_of_dp_is_the_default_to_the_bit() -> None:
    """N = DP x CP asks what no --zero-shard asks: the same answer, the config saying DP x CP; N < DP x CP moves
    the step and the memory."""
    base = estimate_training(**PLAN, zero=3, stack="torchtitan")
    same = estimate_training(**PLAN, zero=3, stack="torchtitan", zero_shard=64)
    assert same.model_dump() == base.model_dump() and base.config.zero_shard == 64
    hybrid = estimate_training(**PLAN, zero=3, stack="torchtitan", zero_shard=8)
    assert hybrid.step_time_s != base.step_time_s and hybrid.memory_per_gpu_bytes > base.memory_per_gpu_bytes


@pytest.mark.parametrize(("kw", "words"), [
    (dict(zero=1, stack="megatron-core-0.8"), "stack megatron-core-0.8 does not run ZeRO-1 over part of DP"),
    (dict(zero=3, stack="nemo-26.04"), "stack nemo-26.04 does not run ZeRO-3 over part of DP"),
    (dict(zero=3, stack="torchtitan", zero_shard=24), "must divide DP x CP = 64"),
    (dict(zero=0, stack="torchtitan"), "does not run ZeRO-0 over part of DP"),
])
def test_refused_with_one_line(kw: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=words):
        estimate_training(**PLAN, **{"zero_shard": 8, **kw})


def test_moe_refused() -> None:
    with pytest.raises(InputError, match="MoE"):
        estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, tp=2, ep=8, etp=1, seq_len=4096, global_batch=256,
                          zero=3, stack="torchtitan", zero_shard=8)


def test_cli_web_and_api_one_answer(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "512", "--tp", "8", "--seq-len", "8192",
            "--global-batch", "512", "--recompute", "full", "--zero", "3", "--stack", "torchtitan", "--zero-shard", "8"]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    api = estimate_training(**PLAN, zero=3, stack="torchtitan", zero_shard=8)
    request = TrainRequest.model_validate({**PLAN, "zero": 3, "stack": "torchtitan", "zero_shard": 8})
    web = run_train(request).model_dump(mode="json")
    assert cli["step_time_s"] == api.step_time_s == web["step_time_s"] and cli["config"]["zero_shard"] == 8
    assert "--zero-shard 8" in request.cli()
    capsys.readouterr()
    assert cli_main([*args[:-1], "24"]) == 2
    err = capsys.readouterr().err.strip()
    assert "must divide DP x CP = 64" in err and len(err.splitlines()) == 1
    assert cli_main(shlex.split(request.cli())[1:]) == 0
    assert json.loads(capsys.readouterr().out)["step_time_s"] == cli["step_time_s"]


def test_search_says_it_is_not_searched() -> None:
    from infraplan.catalog.stacks import load_stack
    from infraplan.cluster import Cluster

    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64)
    node, fabric, dense = cluster.system.node, cluster.fabric, load_model("llama3-8b")
    assert SEARCH_NOTE in search_notes(dense, load_stack("torchtitan"), fabric, node, 64, True)
    assert SEARCH_NOTE not in search_notes(dense, load_stack("deepspeed"), fabric, node, 64, True)  # (runs none)
    assert SEARCH_NOTE not in search_notes(dense, load_stack("torchtitan"), fabric, node, 8, True)  # (one domain)
    assert SEARCH_NOTE not in search_notes(dense, load_stack("torchtitan"), fabric, node, 64, False)  # (no plan)


def test_a_grid_of_mixed_shards_prices_each_as_alone() -> None:
    """`evaluate_plans` over plans of N = 0 / 8 / 16 (PP 4: the end stages' one-pass DP pricing,
    `step_traffic.dp_collectives_once`, with the replica groups as key columns) = each plan's single estimate."""
    import numpy as np

    from infraplan.training.estimate import evaluate_plans, resolve_training
    from infraplan.training.one_plan_memo import PLAN_FIELDS

    points = [resolve_training(**{**PLAN, "gpus": 1024, "pp": 4}, zero=2, stack="torchtitan", zero_shard=n)
              for n in (None, 8, 16)]
    grid = PlanArrays(**{f: np.concatenate([getattr(p.plan, f) for p in points]) for f in PLAN_FIELDS})
    first = points[0]
    out = evaluate_plans(first.shape, first.cluster, grid, first.profile)
    alone = [float(np.ravel(evaluate_plans(p.shape, p.cluster, p.plan, p.profile)["step_time_s"])[0]) for p in points]
    assert list(out["step_time_s"]) == alone and len(set(alone)) == 3
