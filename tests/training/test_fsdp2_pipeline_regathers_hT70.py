"""torchtitan's pipelined ZeRO-3 re-gathers its units (hT, session 70; `training.fsdp2_regathers`).

torch 2.9.1 pipelining/stage.py:645-649 runs every backward with `set_reshard_after_backward(False)`; FSDP2 unshards
only a sharded unit (_fsdp_param_group.py:299-303) and, under torchtitan's "always" policy (distributed/fsdp.py:55-74),
reshards after each forward (:443-447). So a forward after a backward finds its unit gathered, a backward after a
forward re-gathers: m + 1 gathers a unit and step, split by the schedule's order (schedules.py). On 39f41f46 (the
lead's HEAD) the module does not exist and torchtitan priced them once each way (2 a step): each test fails there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training import fsdp2_regathers
from infraplan.training.enums import Dtype, RankOrder, Recompute, Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.fsdp2_regathers import extra_gather_s, gathering_passes, rank_passes
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (a test patches the toggle)
PLAN: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=2, pp=4, vpp=1, zero=3,
                            seq_len=8192, global_batch=512, stack="torchtitan")
_1F1B, _INTER, _ZBH1, _ZBV = (int(s) for s in (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED, Schedule.ZB_H1,
                                                Schedule.ZB_V))


def test_gathers_as_the_schedules_run_them() -> None:
    """Rank 0's all-gathers a step, (forward, backward) passes of its layers, by hand from torch 2.9.1's orders:
    Schedule1F1B p 4, m 32: the 4 warm-up forwards gather, then 28 backwards after a forward and the first
    cool-down one; m 2: both forwards, one backward. Interleaved1F1B p 2, v 2, m 4 (2 rounds of 2): F0 F0 F1 F1 | F0
    B1 F0 B1 F1 B0 F1 B0 | B1 B1 B0 B0, chunk 0 gathers 4 forwards + 1 backward, chunk 1 3 + 2: (3.5, 1.5).
    ZBVZeroBubble p 4, m 32: chunk 0's 7 warm-up forwards and its first steady one, chunk 1's first (it alternates
    F I from its start): 9 forwards over 2 chunks. Every schedule: m + 1 a chunk."""
    assert gathering_passes(_1F1B, 4, 1, 32) == (4.0, 29.0)
    assert gathering_passes(_1F1B, 4, 1, 2) == (2.0, 1.0)
    assert rank_passes(_INTER, 2, 2, 4) == [(0, "F"), (0, "F"), (1, "F"), (1, "F"), (0, "F"), (1, "B"), (0, "F"),
                                            (1, "B"), (1, "F"), (0, "B"), (1, "F"), (0, "B"), (1, "B"), (1, "B"),
                                            (0, "B"), (0, "B")]
    assert gathering_passes(_INTER, 2, 2, 4) == (3.5, 1.5)
    assert gathering_passes(_ZBV, 4, 2, 32) == (4.5, 28.5)
    assert gathering_passes(int(Schedule.DUALPIPE), 8, 1, 16) == (1.0, 1.0)  # (no torch order read: as before)
    for schedule, pp, vpp, m in ((_1F1B, 4, 1, 3), (_1F1B, 8, 1, 64), (_INTER, 4, 2, 12), (_INTER, 4, 5, 64),
                                 (_INTER, 8, 3, 10), (_ZBH1, 4, 1, 32), (_ZBH1, 4, 2, 8), (_ZBV, 4, 2, 3),
                                 (_ZBV, 8, 2, 64)):  # the fast counts (closed form, arrays) are the orders' own
        assert gathering_passes(schedule, pp, vpp, m) == _counted(rank_passes(schedule, pp, vpp, m), vpp), (
            schedule, pp, vpp, m)
    for schedule, vpp in ((_1F1B, 1), (_INTER, 2), (_INTER, 4), (_ZBH1, 1), (_ZBV, 2)):
        for pp in (2, 4, 8):
            for m in (pp, 2 * pp, 8 * pp):
                forward, backward = gathering_passes(schedule, pp, vpp, m)
                assert forward + backward == m + 1, (schedule, pp, vpp, m)
                assert forward >= 1.0 and backward >= 1.0


def test_extra_gathers_priced_on_their_windows() -> None:
    """One 1F1B plan (PP 4, m 32: 4 forward and 29 backward gathers), 50 ms of layer gathers a micro-batch, a 30 ms
    forward and a 60 ms backward window: the 3 forwards beyond the first expose 20 ms each, the 28 backwards beyond
    the first none: 60 ms. A 40 ms backward window: + 28 x 10 ms. PP 1, ZeRO-2 and a stack without the field: 0."""
    plans = PlanArrays.build(tp=1, pp=np.array([4, 1, 4]), dp=16, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=512,
                             seq_len=8192, recompute=Recompute.NONE, zero=np.array([3, 3, 2]), dtype=Dtype.BF16,
                             order=RankOrder.TP_CP_PP_DP)
    titan = load_stack("torchtitan")
    one = plans.take(np.array([0])).one_row
    assert int(one.micro_batches) == 32
    traffic = {"gather_layers": 0.05}
    assert extra_gather_s(one, traffic, (0.03, 0.06), titan, FLOAT_OPS) == pytest.approx(0.06, rel=1e-12)
    assert extra_gather_s(one, traffic, (0.03, 0.04), titan, FLOAT_OPS) == pytest.approx(0.06 + 0.28, rel=1e-12)
    grid = extra_gather_s(plans, {"gather_layers": np.full(3, 0.05)}, (np.full(3, 0.03), np.full(3, 0.06)), titan,
                          NUMPY_OPS)
    assert grid == pytest.approx(np.array([0.06, 0.0, 0.0]), rel=1e-12)
    assert extra_gather_s(one, traffic, (0.03, 0.06), load_stack("nemo-26.04"), FLOAT_OPS) == 0.0


def test_pipelined_zero3_exposes_the_regathers() -> None:
    """torchtitan Llama 3 8B 64 H100 TP2 PP4 ZeRO-3 1F1B (m 32) and interleaved (V 2): the exposed DP seconds grow
    with the re-gathers (on 39f41f46 they were the toggle-off figures); ZeRO-2 (kept gathered) and PP 1 unchanged."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fsdp2_regathers, "PIPELINE_REGATHERS", False)
        off = {k: estimate_training(**{**PLAN, **extra}) for k, extra in
               (("1f1b", {}), ("interleaved", {"vpp": 2}), ("zero2", {"zero": 2}), ("pp1", {"pp": 1, "tp": 1}))}
    clear_one_plan_memo()
    on = {k: estimate_training(**{**PLAN, **extra}) for k, extra in
          (("1f1b", {}), ("interleaved", {"vpp": 2}), ("zero2", {"zero": 2}), ("pp1", {"pp": 1, "tp": 1}))}
    for key in ("1f1b", "interleaved"):
        grew = on[key].breakdown_s.dp_comm_exposed - off[key].breakdown_s.dp_comm_exposed
        assert grew > 0.01, key
        assert on[key].step_time_s - off[key].step_time_s == pytest.approx(grew, rel=1e-9)
    # interleaved runs a chunk's forwards in rounds of PP micro-batches: more of them gather than 1F1B's warm-up
    assert (on["interleaved"].breakdown_s.dp_comm_exposed - off["interleaved"].breakdown_s.dp_comm_exposed
            > on["1f1b"].breakdown_s.dp_comm_exposed - off["1f1b"].breakdown_s.dp_comm_exposed)
    for key in ("zero2", "pp1"):
        assert on[key].step_time_s == off[key].step_time_s


def test_search_arrays_price_it_as_train() -> None:
    """The search's array path (`evaluate_plans`) gives `train`'s step for 1F1B and interleaved PP 4 plans side by
    side (their gathering passes looked up per plan)."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    plans = PlanArrays.build(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=np.array([1, 2]), micro_batch=1, global_batch=512,
                             seq_len=8192, recompute=Recompute.NONE, zero=3, dtype=Dtype.BF16,
                             order=RankOrder.TP_CP_PP_DP,
                             schedule=np.array([_1F1B, _INTER]))
    out = evaluate_plans(shape, cluster, plans, "torchtitan")
    priced = [estimate_training(**{**PLAN, "vpp": v, "order": "tp-cp-pp-dp"}) for v in (1, 2)]
    assert out["step_time_s"] == pytest.approx(np.array([e.step_time_s for e in priced]), rel=1e-9)


def _counted(passes: list[tuple[int, str]], vpp: int) -> tuple[float, float]:
    """The module docstring's rule walked pass by pass: a forward gathers unless its chunk's last pass was a
    backward, a backward where it was a forward."""
    last: dict[int, str] = {}
    forward = backward = 0
    for chunk, kind in passes:
        if kind == "F":
            forward += last.get(chunk) != "B"
        else:
            backward += last.get(chunk) == "F"
        last[chunk] = kind
    return forward / vpp, backward / vpp
