"""Pipeline end stages priced where they run (issue 12 item 5): the embedding on the first stage, the LM head + loss
on the last, their TP collectives, and the tied word-embedding gradient all-reduce between the two."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import collective_seconds
from infraplan.training import layer_terms, stage_split
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.layer_time import ACT
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 2048, "n_head": 16, "n_layer": 16,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-h2048")  # ties its embeddings
STACK = load_stack("megatron-lm-2022")  # Megatron's even split: L / p layers, embedding first, head + loss last


def _plan(tp: int = 1, pp: int = 4, dp: int = 2, micro_batch: int = 4, global_batch: int = 64,
          sequence_parallel: int = 0) -> PlanArrays:
    return PlanArrays.build(tp=tp, pp=pp, dp=dp, cp=1, ep=1, vpp=1, micro_batch=micro_batch,
                            global_batch=global_batch, seq_len=1024, recompute=Recompute.NONE, zero=0,
                            dtype=Dtype.BF16, attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP,
                            sequence_parallel=sequence_parallel)


def _split(layer_s: float, embed_s: float, head_s: float, pp: float) -> dict[str, Any]:
    times: dict[str, Any] = {f"{part}_{ph}": 0.0 for part in ("compute", "tp", "cp", "ep", "other", "host", "head_gpu",
                                                                "head_host", "embed_gpu", "embed_host")
                             for ph in ("fwd", "bwd")}
    times.update(compute_bwd=layer_s, head_gpu_bwd=head_s, embed_gpu_bwd=embed_s)
    return stage_split.with_stage_split(SHAPE, STACK, times, pp)


def test_the_embedding_weighs_on_the_first_stage_and_the_head_on_the_last() -> None:
    heavy_embedding = _split(1.0, 2.0, 0.5, 4.0)  # 4 + 2 on the first, 4 + 0.5 on the last
    assert heavy_embedding["first_is_heaviest"] == 1.0 and heavy_embedding["last_is_heaviest"] == 0.0
    heavy_head = _split(1.0, 0.5, 2.0, 4.0)
    assert heavy_head["first_is_heaviest"] == 0.0 and heavy_head["last_is_heaviest"] == 1.0
    one_stage = _split(1.0, 0.5, 2.0, 1.0)  # one stage holds both
    assert one_stage["first_is_heaviest"] == 1.0 and one_stage["last_is_heaviest"] == 1.0
    assert one_stage["stage_layers"] == SHAPE.num_layers


def _with_embedding_cost(monkeypatch: pytest.MonkeyPatch, extra_s: float) -> None:
    real = layer_terms.head_times  # (the per-layer terms' LM head and embedding: `layer_terms.per_layer_terms`)

    def head_times(*args: Any, **kwargs: Any) -> dict[str, Any]:
        times = dict(real(*args, **kwargs))
        times["embed_other"] = times["embed_other"] + extra_s
        times["embed_gpu_bwd"] = times["embed_gpu_bwd"] + extra_s
        return times

    monkeypatch.setattr(layer_terms, "head_times", head_times)
    clear_one_plan_memo()


@pytest.mark.parametrize("pp", [1, 4])
def test_an_embedding_off_the_pace_setting_stage_costs_once_per_step(monkeypatch: pytest.MonkeyPatch,
                                                                     pp: int) -> None:
    cluster = Cluster.resolve("dgx-a100-superpod")
    plan = _plan(pp=pp, dp=8 // pp)
    m = int(plan.micro_batches[0])
    assert m > 1
    base = st.step_time(SHAPE, cluster, plan, STACK)
    delta_s = 1e-5  # well under a layer: the stage that sets the pace stays the last (head + loss) with PP
    _with_embedding_cost(monkeypatch, delta_s)
    more = st.step_time(SHAPE, cluster, plan, STACK)
    clear_one_plan_memo()
    grown = float(more["step_time_s"][0] - base["step_time_s"][0])
    # one stage runs every micro-batch's embedding; with PP the first stage's embedding is in the other stages'
    # time, which a 1F1B step pays once (sum_i t_i + (m - 1) max_i t_i), not once per micro-batch
    assert grown == pytest.approx(delta_s * (m if pp == 1 else 1), rel=1e-6)


def test_tied_embeddings_all_reduce_their_gradient_between_the_end_stages() -> None:
    cluster = Cluster.resolve("dgx-a100-superpod")
    assert SHAPE.tied_embeddings
    untied = SHAPE.model_copy(update={"tied_embeddings": False})
    for pp, dp in ((4, 2), (1, 8)):
        plan = _plan(tp=2, pp=pp, dp=dp // 2 if pp == 1 else 1)
        tied_s = float(st.step_time(SHAPE, cluster, plan, STACK)["pp_comm"][0])
        untied_s = float(st.step_time(untied, cluster, plan, STACK)["pp_comm"][0])
        if pp == 1:
            assert tied_s == untied_s == 0.0
            continue
        grad_bytes = SHAPE.vocab_size / 2 * SHAPE.hidden_size * STACK.grad_reduce_bytes
        pair_s = collective_seconds(cluster.fabric, "all_reduce", grad_bytes, 2.0,
                                    pp * float(plan.pp_stride[0]) / 2.0)
        assert pair_s > 0.0
        assert tied_s - untied_s == pytest.approx(pair_s, rel=1e-9)


def test_the_end_stages_tp_collectives_follow_sequence_parallelism() -> None:
    cluster = Cluster.resolve("dgx-a100-superpod")
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    precision = (rates.matmul_flops_per_s, 2.0)
    fabric = cluster.fabric

    def ends(tp: int, sp: int) -> dict[str, Any]:
        row = _plan(tp=tp, pp=1, dp=1, sequence_parallel=sp).one_row
        return st.head_times(SHAPE, rates, row, precision, STACK, fabric.host_kernel_dispatch_s, fabric)

    alone = ends(1, 0)
    assert alone["head_tp"] == 0.0 and alone["embed_tp"] == 0.0
    act = 4 * 1024 * SHAPE.hidden_size * ACT  # micro-batch 4 x 1024 tokens
    no_sp, sp = ends(8, 0), ends(8, 1)
    all_reduce = collective_seconds(fabric, "all_reduce", act, 8.0, 1.0)
    loss_reduces = 3.0 * collective_seconds(fabric, "all_reduce", 4 * 1024 * 4.0, 8.0, 1.0)  # max, sum, target
    # embedding: forward all-reduce of its output; LM head: the backward all-reduce of its input gradient
    assert no_sp["embed_tp"] == pytest.approx(all_reduce)
    assert no_sp["head_tp"] == pytest.approx(all_reduce + loss_reduces)
    # SP: reduce-scatter + all-gather at each end instead (about half an all-reduce each)
    gather = collective_seconds(fabric, "all_gather", act, 8.0, 1.0)
    scatter = collective_seconds(fabric, "reduce_scatter", act, 8.0, 1.0)
    assert sp["embed_tp"] == pytest.approx(gather + scatter)
    assert sp["head_tp"] == pytest.approx(gather + scatter + loss_reduces)
    # they are GPU time of their phase and launch kernels the host issues
    assert no_sp["embed_gpu_fwd"] - alone["embed_gpu_fwd"] == pytest.approx(all_reduce, rel=1e-3)
    assert no_sp["head_host_bwd"] > alone["head_host_bwd"]


def test_the_float_and_array_paths_agree_on_the_end_stages() -> None:
    cluster = Cluster.resolve("dgx-a100-superpod")
    grid = PlanArrays.build(tp=np.array([1, 2, 2, 4]), pp=np.array([4, 2, 4, 1]), dp=np.array([2, 2, 1, 2]), cp=1,
                            ep=1, vpp=1, micro_batch=np.array([1, 2, 4, 1]), global_batch=64, seq_len=1024,
                            recompute=Recompute.FULL, zero=0, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                            order=RankOrder.TP_CP_DP_PP, sequence_parallel=np.array([0, 1, 0, 1]))
    together = st.step_time(SHAPE, cluster, grid, STACK)
    for i in range(len(grid)):
        clear_one_plan_memo()
        alone = st.step_time(SHAPE, cluster, grid.take([i]), STACK)
        for key, value in alone.items():
            assert value[0] == together[key][i], (key, i)
