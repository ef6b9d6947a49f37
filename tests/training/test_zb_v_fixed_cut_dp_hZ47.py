"""ZB-V's DP traffic and optimizer step on what each rank of a fixed cut holds (hZ47, session 45;
`mirrored_dp.mirrored_held_layers`).

torchtitan 0.3.0 cuts Llama 3 70B (80 layers) over 2p = 16 stages of L + 2 units (distributed/pipeline_parallel.py
:366-476): 5 / 6 / 5 x 13 / 4 layers, the embedding on stage 0 and the norm + output on stage 15; ZBVZeroBubble gives
rank r stages r and 2p - 1 - r (:569-576), so rank 0 holds 5 + 4 = 9 layers and both tables, rank 1 6 + 5 = 11, the
others 10. Rank 1 sets the pace (1.1 layers of tables beside rank 0's 9). Before this round the DP traffic and the
optimizer read the end rank off the pace-setting rank (L - (p - 1) X = 80 - 7 x 11 = 3 layers and both tables), though
the memory counted the 9 rank 0 holds.

Hand counts: a layer's parameters on one GPU P (TP 8), a table T = V h / 8 (Llama 3 is untied: an embedding and an
LM head). Rank 0 holds 9 P + 2 T = 1.225 G, more than rank 1's 11 P = 1.177 G, so the DP gradient all-reduce (ZeRO-0)
moves rank 0's 9 P + 2 T at the stack's gradient bytes, and the optimizer steps 9 P + 2 T (its 1 / DP shard under
ZeRO-2); before: 11 P both.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.training.test_pipeline_partition_units_hT47 import TORCHTITAN

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.ops.params import local_layer_params
from infraplan.training import search, step_assembly
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.pipeline_partition import v_cut_ranks
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import dp_groups

GPUS, TP, PP = 128, 8, 8  # DP 2


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _cluster() -> Cluster:
    return Cluster.resolve("dgx-h100-superpod").for_gpus(GPUS).placed(GPUS)


def _estimate(zero: int, stack: Any = TORCHTITAN) -> Any:
    return estimate_training("llama3-70b", _cluster(), GPUS, tp=TP, pp=PP, vpp=2, seq_len=8192, global_batch=128,
                             zero=zero, schedule="zb-v", stack=stack)


def _hand() -> tuple[float, float]:
    """(rank 0's parameters on one GPU, rank 1's), by hand from the cut's 9 and 11 layers."""
    shape = load_model("llama3-70b")
    assert v_cut_ranks(80, PP) == (9.0, 11.0)  # (the cut's own ranks, checked against torchtitan in hT47's tests)
    p, t = float(local_layer_params(shape, TP)), shape.vocab_size * shape.hidden_size / TP
    return 9 * p + 2 * t, 11 * p


def test_rank_0s_dp_bytes_are_what_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """DP windows at zero (the exposed DP time is the collectives' own): ZeRO-0's all-reduce over the 2 DP ranks moves
    rank 0's 9 P + 2 T gradients at the stack's gradient bytes (fp32: 4 B), the most of the ranks'."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    rank_0, rank_1 = _hand()
    assert rank_0 > rank_1  # (rank 0's tables outweigh rank 1's two more layers)
    row = PlanArrays.one_plan(tp=TP, pp=PP, dp=GPUS // (TP * PP), cp=1, ep=1, etp=None, vpp=2, micro_batch=1,
                              global_batch=128, seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0,
                              sequence_parallel=1, schedule=int(Schedule.ZB_V)).one_row
    dp, stride = dp_groups(row)[:2]
    assert dp == 2
    grad = TORCHTITAN.grad_reduce_bytes
    assert grad == 4.0
    expected = collective_seconds(_cluster().fabric, "all_reduce", rank_0 * grad, float(dp), float(stride))
    before = collective_seconds(_cluster().fabric, "all_reduce", rank_1 * grad, float(dp), float(stride))
    got = _estimate(0).breakdown_s.dp_comm_exposed
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > before


def test_the_optimizer_steps_rank_0s_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimizer's parameters (`optimizer_step.stepped_params`, read off the step): ZeRO-2's 1 / 2 shard of rank
    0's 9 P + 2 T; ZeRO-0 all of it."""
    seen: list[float] = []
    stepped = step_assembly.stepped_params

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = stepped(*args, **kwargs)
        seen.append(float(out))
        return out

    monkeypatch.setattr(step_assembly, "stepped_params", spy)
    rank_0, _ = _hand()
    _estimate(2)
    assert seen[-1] == pytest.approx(rank_0 / 2, rel=1e-12)
    _estimate(0)
    assert seen[-1] == pytest.approx(rank_0, rel=1e-12)


def test_a_search_grid_prices_the_fixed_cut_ranks_as_the_single_estimate() -> None:
    """A search's ZB-V rows under torchtitan (arrays over plans: the cut's ranks per row's PP) give each plan the
    single estimate's DP exposure and optimizer seconds, bit for bit."""
    found = search.search_plans("llama3-70b", "dgx-h100-superpod", 256, 8192, 256, top=40, stack=TORCHTITAN,
                                schedules=["zb-v"])
    rows = [r for r in found.top if r.config.schedule == "zb-v"]  # (PP 1 plans run no pipeline schedule)
    assert len({r.config.pp for r in rows}) >= 2
    for r in rows:
        c = r.config
        e = estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=c.tp, pp=c.pp, vpp=c.vpp, cp=c.cp,
                              seq_len=8192, global_batch=256, micro_batch=c.micro_batch, recompute=c.recompute,
                              zero=c.zero, dtype=c.dtype, order=c.order, schedule=c.schedule, stack=TORCHTITAN)
        assert e.breakdown_s.dp_comm_exposed == r.breakdown_s.dp_comm_exposed
        assert e.breakdown_s.optimizer == r.breakdown_s.optimizer
        assert e.step_time_s == r.step_time_s
