"""DP traffic of DualPipe / ZB-V ranks on the stages each rank holds (hO45, session 43; `training.mirrored_dp`).

A DualPipe rank i holds stages i and p - 1 - i (two parameter copies, dualpipe 1.0.0: `DualPipe(modules)` takes two
modules; DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1), a ZB-V rank chunks i and 2p - 1 - i (one copy, rank 0 both
tables). Its DP collectives move everything it holds; before, every mirrored rank was priced on one stage's
ceil(L / p) layers and one table, as on 1F1B. DualPipe's stage lives on two ranks, each copy's gradients over half
the micro-batches, so each copy's shard is summed with its mirror's (an all-reduce over the pair, ASSUMPTION in the
module docstring).

Hand cases: a layer's parameters on one GPU P, a table T = V h / TP (Llama 3 is untied: an embedding and an LM head),
the DP windows set to zero (`step_assembly.dp_windows`) so the exposed DP time is the collectives' own seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import search, step_assembly
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import WEIGHT_BYTES
from infraplan.training.mirrored_dp import mirrored_rank_stages
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_resolution import resolve_plan
from infraplan.training.stage_params import dp_groups, rank_params, sharded_of
from infraplan.training.step_time import balanced_split

TITAN = TORCHTITAN_EVEN  # even split, no layer counted for the embedding / loss
LLAMA3 = load_stack("meta-llama3")  # balanced split
DUALPIPE = int(Schedule.DUALPIPE)


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _no_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DP collectives hide behind nothing: the exposed DP seconds are their own."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))


def _8b(cluster: Cluster, schedule: str, gpus: int = 64, vpp: int = 1, global_batch: int = 128,
        zero: int = 0) -> tuple[Any, PlanArrays]:
    kw: dict[str, Any] = dict(tp=1, pp=8, vpp=vpp, seq_len=4096, global_batch=global_batch, zero=zero,
                              schedule=schedule, stack=TITAN, order="tp-cp-pp-dp")
    result = estimate_training("llama3-8b", cluster, gpus, **kw)
    plan = resolve_plan(load_model("llama3-8b"), cluster, gpus, 1, 8, None, 1, 1, vpp, 4096, global_batch, 1,
                        "none", zero, "bf16", schedule=schedule)
    return result, plan.one_row


def test_a_mirrored_rank_moves_both_stages_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 8B (32 layers) on TP1 PP8 DP8, ZeRO-0 (the gradient all-reduce over the 8 DP ranks): 1F1B's heaviest
    stage moves 4 P + T; a DualPipe rank its two stages, 2 (4 P + T), and then sums each copy's 1 / 8 shard with its
    mirror (an all-reduce of 2 (4 P + T) / 8 over 2 ranks, PP x stage stride / 2 apart); a ZB-V rank its two chunks of
    2 layers, 4 P, and rank 0 both tables, 2 T (before: 4 P + T on both)."""
    _no_windows(monkeypatch)
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    grad = TITAN.grad_reduce_bytes
    one_f_one_b, row = _8b(cluster, "1f1b")
    dp, dp_stride = dp_groups(row)[:2]
    assert dp == 8

    def all_reduce(params: float, ranks: float = 8.0, stride: float = float(dp_stride)) -> float:
        return collective_seconds(cluster.fabric, "all_reduce", params * grad, ranks, stride)

    assert one_f_one_b.breakdown_s.dp_comm_exposed == pytest.approx(all_reduce(4 * p + t), rel=1e-12)
    dualpipe, row = _8b(cluster, "dualpipe")
    pair = all_reduce(2 * (4 * p + t) / 8, 2.0, 8.0 * float(row.pp_stride) / 2.0)
    assert dualpipe.breakdown_s.dp_comm_exposed == pytest.approx(all_reduce(2 * (4 * p + t)) + pair, rel=1e-12)
    zb_v, _ = _8b(cluster, "zb-v", vpp=2)
    assert zb_v.breakdown_s.dp_comm_exposed == pytest.approx(all_reduce(4 * p + 2 * t), rel=1e-12)
    assert zb_v.breakdown_s.dp_comm_exposed > one_f_one_b.breakdown_s.dp_comm_exposed


def test_dualpipe_sums_its_copies_even_without_data_parallelism(monkeypatch: pytest.MonkeyPatch) -> None:
    """On 8 GPUs (PP8, DP 1) no DP collective moves a byte, but each DualPipe copy's gradients (half the
    micro-batches) are still summed with its mirror's: an all-reduce of the rank's 2 (4 P + T) over the pair."""
    _no_windows(monkeypatch)
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8).placed(8)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    one_f_one_b, _ = _8b(cluster, "1f1b", gpus=8, global_batch=16)
    assert one_f_one_b.breakdown_s.dp_comm_exposed == 0.0
    dualpipe, row = _8b(cluster, "dualpipe", gpus=8, global_batch=16)
    pair = collective_seconds(cluster.fabric, "all_reduce", 2 * (4 * p + t) * TITAN.grad_reduce_bytes, 2.0,
                              8.0 * float(row.pp_stride) / 2.0)
    assert pair > 0.0
    assert dualpipe.breakdown_s.dp_comm_exposed == pytest.approx(pair, rel=1e-12)


def test_the_traffic_moves_what_the_optimizer_steps() -> None:
    """The DP traffic's rank is the memory's and the optimizer's (`stage_params.rank_params`): DeepSeek-V3 under
    DualPipe (its MTP module on the end rank, routed experts sharded over their own group) and Llama 3 405B on
    meta-llama3's balanced split (the end and the middle rank), parameters and their ZeRO shard alike."""
    deepseek = load_stack("deepseek-v3")
    Case = tuple[str, Any, PlanArrays, tuple[float, float, float] | None]
    cases: list[Case] = [("deepseek-v3", deepseek, PlanArrays.one_plan(
        tp=1, pp=16, dp=128, cp=1, ep=64, etp=None, vpp=1, micro_batch=1, global_batch=15360, seq_len=4096,
        recompute=1, zero=1, dtype=0, attention=0, order=1, sequence_parallel=1, schedule=DUALPIPE), None)]
    heaviest = (8.0, 0.0, 0.0)  # (405B DualPipe PP16: the middle ranks' 8 layers per copy set the pace)
    cases.append(("llama3-405b", LLAMA3, PlanArrays.one_plan(
        tp=8, pp=16, dp=16, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=2048, seq_len=8192,
        recompute=0, zero=1, dtype=0, attention=0, order=0, sequence_parallel=1, schedule=DUALPIPE), heaviest))
    for name, stack, plan, split in cases:
        shape, row = load_model(name), plan.one_row
        stages = mirrored_rank_stages(shape, row, stack, split or (0.0, 0.0, 0.0), FLOAT_OPS)
        layers = None
        if split is not None:  # (the end rank 7 layers per copy and both tables, the middle 8: hO44's split)
            layers = (8.0, 7.0, 7.0, 8.0)
        for kind, (params, experts, local_layers, _) in zip((1, 0), stages, strict=False):
            held, shard = rank_params(shape, row, stack, kind, 2.0, layers)
            assert params == pytest.approx(held, rel=1e-12)
            assert sharded_of(row, params, experts) == pytest.approx(shard, rel=1e-12)
            assert local_layers == 2.0 * (layers[kind] if layers else 4.0)  # (DeepSeek-V3: ceil(61 / 16) = 4)
        assert len(stages) == (2 if split else 1)


def test_405b_dualpipe_balanced_split_prices_the_middle_rank_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 405B, TP8 PP16 DP16, ZeRO-1, meta-llama3 under DualPipe: the end ranks hold 2 x (7 P + T), the middle
    ranks 16 P (hO44's split), more, so the DP exposure is the middle rank's reduce-scatter, its pair sum and its
    parameter all-gather (before: ceil(126 / 16) = 8 P + T once)."""
    _no_windows(monkeypatch)
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(2048).placed(2048)
    plan = PlanArrays.one_plan(tp=8, pp=16, dp=16, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=2048,
                               seq_len=8192, recompute=0, zero=1, dtype=0, attention=0, order=0,
                               sequence_parallel=1, schedule=DUALPIPE)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    assert split is not None and tuple(map(float, split[3:5])) == (8.0, 0.0)  # (DualPipe: a middle rank paces)
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    middle = 16 * p
    assert middle > 2 * (7 * p + t)
    row = plan.one_row
    dp, stride = dp_groups(row)[:2]
    grad, fabric = LLAMA3.grad_reduce_bytes, cluster.fabric
    expected = (collective_seconds(fabric, "reduce_scatter", middle * grad, float(dp), float(stride))
                + collective_seconds(fabric, "all_reduce", middle / dp * grad, 2.0, 16.0 * float(row.pp_stride) / 2.0)
                + collective_seconds(fabric, "all_gather", middle * WEIGHT_BYTES, float(dp), float(stride)))
    r = estimate_training("llama3-405b", cluster, 2048, tp=8, pp=16, vpp=1, seq_len=8192, global_batch=2048,
                          zero=1, stack=LLAMA3, schedule="dualpipe")
    assert r.breakdown_s.dp_comm_exposed == pytest.approx(expected, rel=1e-12)


def test_1f1b_and_interleaved_never_price_a_mirrored_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte-identical off the mirrored schedules: the only new path (`mirrored_dp_forms`) is never taken by a 1F1B
    or interleaved plan, in a single estimate or a search grid of both."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a mirrored rank priced on a plan that holds one stage")

    monkeypatch.setattr(step_assembly, "mirrored_dp_forms", refuse)
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    for schedule, vpp in (("1f1b", 1), ("interleaved", 2)):
        r = estimate_training("llama3-8b", cluster, 64, tp=1, pp=8, vpp=vpp, seq_len=4096, global_batch=128,
                              zero=1, schedule=schedule, stack=TITAN)
        assert r.step_time_s > 0.0
    found = search.search_plans("llama3-8b", "dgx-h100-superpod", 64, 4096, 128, top=3, stack=TITAN,
                                schedules=["1f1b", "interleaved"])
    assert found.top


def test_a_search_grid_prices_mirrored_ranks_as_the_single_estimate() -> None:
    """A search's rows of DualPipe and ZB-V (arrays over plans, `dp_collectives_once` on the mirrored rows) give each
    plan the single estimate's step time, bit for bit, DP exposure included (meta-llama3's balanced split given both
    schedules, as a user's stack file could; its wgrad accumulation fused as before hL88, whose per-micro-batch copy
    ranks PP 1 plans first)."""
    stack = LLAMA3.model_copy(update={"pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v"),
                                      "gradient_accumulation_fusion": True})
    found = search.search_plans("llama3-70b", "dgx-h100-superpod", 1024, 4096, 256, top=12, stack=stack,
                                schedules=["dualpipe", "zb-v"])
    assert {r.config.schedule for r in found.top} <= {"dualpipe", "zb-v"}
    exposed = 0
    for r in found.top:
        c = r.config
        e = estimate_training("llama3-70b", "dgx-h100-superpod", 1024, tp=c.tp, pp=c.pp, vpp=c.vpp, cp=c.cp,
                              seq_len=4096, global_batch=256, micro_batch=c.micro_batch, recompute=c.recompute,
                              zero=c.zero, dtype=c.dtype, order=c.order, schedule=c.schedule, stack=stack)
        assert e.step_time_s == r.step_time_s
        assert e.breakdown_s.dp_comm_exposed == r.breakdown_s.dp_comm_exposed
        exposed += r.breakdown_s.dp_comm_exposed > 0.0
    assert exposed  # (some rows expose DP time: the mirrored ranks' traffic is read)


def test_each_dualpipe_copy_hides_behind_its_own_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backward window w of one micro-batch on the rank (its one stage of the pair): a DualPipe rank exposes its
    two copies' all-reduce and pair sum less 2 w (each copy's reductions behind its own last backward, ASSUMPTION
    in `training.mirrored_dp`); ZB-V's rank runs both chunks per micro-batch, so its one window is already both
    chunks' (one copy: its all-reduce less w)."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    _, row = _8b(cluster, "1f1b")
    dp, stride = dp_groups(row)[:2]

    def all_reduce(params: float, ranks: float = 8.0, stride: float = float(stride)) -> float:
        return collective_seconds(cluster.fabric, "all_reduce", params * TITAN.grad_reduce_bytes, ranks, stride)

    dualpipe_s = all_reduce(2 * (4 * p + t)) + all_reduce(2 * (4 * p + t) / 8, 2.0, 8.0 * float(row.pp_stride) / 2.0)
    w = dualpipe_s / 4.0
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, w))
    assert _8b(cluster, "dualpipe")[0].breakdown_s.dp_comm_exposed == pytest.approx(dualpipe_s - 2.0 * w,
                                                                                       rel=1e-12)
    assert _8b(cluster, "zb-v", vpp=2)[0].breakdown_s.dp_comm_exposed == pytest.approx(
        max(all_reduce(4 * p + 2 * t) - w, 0.0), rel=1e-12, abs=1e-15)
