"""What a rank holds before sharding (`stage_params.rank_holdings`, hK44, session 43): the public count a mirrored
rank's DP traffic reads (`mirrored_dp.mirrored_rank_stages`), which before read four private helpers of
`training.stage_params`.

Hand cases: a layer's parameters on one GPU P, a table T = V h / TP. Llama 3 8B (32 layers, untied) at PP8 on
torchtitan's even split (no layer counted for the embedding / loss): a first stage ceil(32 / 8) = 4 layers and the
embedding. A DualPipe rank 0 holds stages 0 and 7, two copies of 4 P + T (dualpipe 1.0.0 dualpipe.py:11-22); a ZB-V
rank 0 chunks 0 and 15 of 16, one copy, the embedding and the LM head (torch 2.13.0 pipelining/_utils.py:528-543);
a 1F1B first stage 4 P + T. DeepSeek-V3's MTP module (deepseek-v3 stack: 1) on the rank that holds the last stage:
DualPipe's rank 0, 1F1B's last stage (arXiv:2412.19437 sec. 2.2, 3.2.1).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.params import local_layer_params
from infraplan.training import mirrored_dp
from infraplan.training.activation_memory import FIRST, LAST, MIDDLE
from infraplan.training.enums import Schedule
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import mtp_module_params, rank_holdings, rank_params, sharded_of

TITAN = load_stack("torchtitan")
DEEPSEEK = load_stack("deepseek-v3")


def _plan(schedule: Schedule, tp: int = 1, pp: int = 8, dp: int = 8, ep: int = 1, vpp: int = 1) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=1, ep=ep, etp=None, vpp=vpp, micro_batch=1, global_batch=512,
                               seq_len=4096, recompute=0, zero=1, dtype=0, attention=0, order=0, sequence_parallel=1,
                               schedule=int(schedule))


def test_llama3_8b_first_rank_by_hand() -> None:
    """DualPipe 2 (4 P + T), ZB-V 4 P + 2 T (its rank 0 holds the LM head too), 1F1B 4 P + T; no routed experts,
    no MTP modules (torchtitan has none)."""
    shape = load_model("llama3-8b")
    p, t = float(local_layer_params(shape, 1)), float(shape.vocab_size * shape.hidden_size)
    cases = ((Schedule.DUALPIPE, 1, 2.0, 2.0 * (4 * p + t)), (Schedule.ZB_V, 2, 1.0, 4 * p + 2 * t),
             (Schedule.ONE_F_ONE_B, 1, 1.0, 4 * p + t))
    for schedule, vpp, copies, want in cases:
        params, experts, modules = rank_holdings(shape, _plan(schedule, vpp=vpp).one_row, TITAN, FIRST, copies)
        assert params == pytest.approx(want, rel=1e-12), schedule
        assert experts == 0.0 and modules == 0.0


def test_deepseek_v3_mtp_module_on_the_rank_that_holds_the_last_stage() -> None:
    """DualPipe: rank 0 (the first kind) holds the MTP module once beside its two copies, its middle ranks none;
    1F1B: the last stage holds it, the first none. The module's parameters and routed experts are
    `mtp_module_params`' (no embedding table beside it under a mirrored schedule: rank 0 holds one already)."""
    shape = load_model("deepseek-v3")
    dualpipe = _plan(Schedule.DUALPIPE, pp=16, dp=128, ep=64).one_row
    module, module_experts = mtp_module_params(shape, dualpipe, 1)
    end = rank_holdings(shape, dualpipe, DEEPSEEK, FIRST, 2.0)
    middle = rank_holdings(shape, dualpipe, DEEPSEEK, MIDDLE, 2.0)
    assert (end[2], middle[2]) == (1.0, 0.0)
    without = rank_holdings(shape, dualpipe, TITAN, FIRST, 2.0)  # (the same stage on a stack without MTP)
    assert end[0] - without[0] == pytest.approx(module, rel=1e-9)
    assert end[1] - without[1] == pytest.approx(module_experts, rel=1e-9)
    assert module_experts > 0.0 and middle[1] > 0.0  # (DeepSeek-V3's routed experts, apart)
    one_f_one_b = _plan(Schedule.ONE_F_ONE_B, pp=16, dp=128, ep=64).one_row
    assert rank_holdings(shape, one_f_one_b, DEEPSEEK, FIRST, 1.0)[2] == 0.0
    assert rank_holdings(shape, one_f_one_b, DEEPSEEK, LAST, 1.0)[2] == 1.0


def test_the_memory_and_the_optimizer_count_the_same_rank() -> None:
    """`rank_params` (the memory's and the optimizer's rank) holds the same parameters, bit for bit (the same
    operations), and its ZeRO shard is these parameters' with the experts over their own group (`sharded_of`), on
    every stage kind, a balanced split's `layers` too."""
    shape = load_model("deepseek-v3")
    layers = (5.0, 3.0, 4.0, 5.0)
    for schedule, copies in ((Schedule.DUALPIPE, 2.0), (Schedule.ONE_F_ONE_B, 1.0)):
        row = _plan(schedule, pp=16, dp=128, ep=64).one_row
        for kind in (MIDDLE, FIRST, LAST, 3):
            for split in (None, layers):
                params, experts, _ = rank_holdings(shape, row, DEEPSEEK, kind, copies, split)
                held, shard = rank_params(shape, row, DEEPSEEK, kind, copies, split)
                assert params == held
                assert sharded_of(row, params, experts) == pytest.approx(shard, rel=1e-12)


def test_arrays_over_plans_match_each_plan() -> None:
    """Over plans (a search's arrays) each row is its one-plan count: DualPipe, ZB-V and 1F1B of Llama 3 8B at
    TP 1 and 2."""
    shape = load_model("llama3-8b")
    schedules = [Schedule.DUALPIPE, Schedule.ZB_V, Schedule.ONE_F_ONE_B] * 2
    tps = [1, 1, 1, 2, 2, 2]
    plans = PlanArrays.build(tp=tps, pp=8, dp=8, cp=1, ep=1, etp=None, vpp=[1, 2, 1] * 2, micro_batch=1,
                             global_batch=512, seq_len=4096, recompute=0, zero=1, dtype=0,
                             schedule=[int(s) for s in schedules])
    copies = np.where([s == Schedule.DUALPIPE for s in schedules], 2.0, 1.0)
    params, _, _ = rank_holdings(shape, plans, TITAN, FIRST, copies)
    for i, (schedule, tp) in enumerate(zip(schedules, tps, strict=True)):
        row = _plan(schedule, tp=tp, vpp=2 if schedule == Schedule.ZB_V else 1).one_row
        assert float(params[i]) == pytest.approx(rank_holdings(shape, row, TITAN, FIRST, float(copies[i]))[0],
                                                 rel=1e-12)


def test_mirrored_modules_import_no_private_name_of_another_module() -> None:
    """training/mirrored_dp.py reads `training.stage_params` through its public functions only (hK44)."""
    tree = ast.parse(Path(mirrored_dp.__file__).read_text())
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names if alias.name.startswith("_")]
    assert private == []
