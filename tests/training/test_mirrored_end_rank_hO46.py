"""The end rank of a mirrored schedule's balanced split where the middle bins cannot all hold the pace's X (hO46).

`stage_params.mirrored_rank_layers` gave the end bin L - (B - 1) X clamped to 0: llama3-8b deepspeed PP8 ZB-V paces
on a middle bin of 5 layers, 7 x 5 = 35 > 32, so the end rank held 0 layers and both tables. The step time's split
(`stage_split.balanced_stage_floats`) only needs every bin within the pace: the end bin holds at most floor(X - e)
beside its tables (e: their time in layers, `mirrored_stages.end_extra_layers`), the middle bins the rest, at most X.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.enums import Schedule
from infraplan.training.memory import kind_layers
from infraplan.training.optimizer_step import mirrored_rank_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import mirrored_rank_layers
from infraplan.training.stage_split import balanced_stage_floats
from infraplan.training.step_time import balanced_split
from infraplan.training.step_traffic import EndStageTraffic


def test_the_bins_hold_every_layer_within_the_pace_on_a_grid() -> None:
    """On a grid of layers L, bins B and the end bin's tables e (seeded), the step time's bisection gives the pace
    X; the end rank's count and the middle bins' rest: the end within the pace beside its tables, the rest within
    (B - 1) X, every layer held once (end + rest == L with each middle bin at most X), and the end never below what
    every middle bin at X leaves it (the hO44 count where that is >= 0)."""
    rng = np.random.default_rng(46)
    checked = overfull = 0
    for num_layers in (2, 7, 16, 32, 61, 80, 126):
        for bins in (2, 3, 4, 8, 16):
            for extra in (0.0, *rng.uniform(0.05, 6.0, 4)):
                x_s, x, _, end_heavy = balanced_stage_floats(num_layers, float(bins), 1.0, float(extra), 0.0)
                for v_shaped in (True, False):
                    pp = float(bins) if v_shaped else 2.0 * bins
                    per_copy = 1.0 if v_shaped else 2.0
                    end, middle = (float(v) * per_copy for v in mirrored_rank_layers(
                        num_layers, pp, x / per_copy, 1.0 if end_heavy else 0.0, v_shaped, float(extra)))
                    rest, fits = num_layers - end, math.floor(x_s + 1e-9)  # (a middle bin's layers at the pace)
                    assert end >= 0.0 and end == math.floor(end)
                    assert end + extra <= x_s + 1e-9  # (the end bin within the pace)
                    assert 0.0 <= rest <= (bins - 1) * fits  # (the middle bins hold the rest within the pace)
                    assert middle == (x if not end_heavy else math.ceil(rest / (bins - 1)))
                    assert middle <= fits
                    if not end_heavy:
                        assert end >= num_layers - (bins - 1) * x
                    if not end_heavy and (bins - 1) * x > num_layers:  # (the middle bins cannot all hold X)
                        assert end == min(math.floor(x_s - extra + 1e-9), num_layers - x)  # its capacity
                        overfull += 1
                    checked += 1
    assert checked == 7 * 5 * 5 * 2 and overfull > 0


def test_llama3_8b_deepspeed_zb_v_end_rank_by_hand() -> None:
    """llama3-8b (32 layers) on deepspeed PP8 ZB-V: 8 bins of two chunks, the pace a middle bin of X = 5; 7 x 5 = 35 >
    32, so the middle bins cannot all hold 5. The end rank holds floor(5 - e) beside its two tables (e: their time
    in layers, between 2 and 3 here: 2 layers), the middle ranks the other 30 (at most 5 each): before, 0 layers."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    deepspeed = load_stack("deepspeed")
    plan = PlanArrays.one_plan(tp=1, pp=8, dp=8, cp=1, ep=1, etp=None, vpp=2, micro_batch=1, global_batch=512,
                               seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0,
                               sequence_parallel=1, schedule=int(Schedule.ZB_V))
    split: tuple[float, ...] | None = balanced_split(shape, cluster, plan, deepspeed)
    assert split is not None and float(split[5]) == 5.0 and float(split[6]) == 0.0  # (ZB-V: a middle bin, X = 5)
    extra = float(split[7])
    assert 2.0 < extra < 3.0
    middle, first, last, _ = (float(np.ravel(v)[0]) for v in kind_layers(shape, plan, deepspeed, split))  # type: ignore[union-attr]
    assert (middle, first, last) == (5.0, 2.0, 2.0)
    assert first + 6 * 5 >= 32 - 5  # (the other 30 over the 7 middle ranks, at most 5 each)
    # the optimizer steps the end rank's 2 layers and both tables (ZeRO 0), more than a middle rank's 5 layers
    p, t = float(local_layer_params(shape, 1)), float(shape.vocab_size * shape.hidden_size)
    assert 2 * p + 2 * t > 5 * p
    ends = EndStageTraffic(shape, plan.one_row, lambda *args: [])
    stepped = mirrored_rank_params(ends, plan.one_row, deepspeed, FLOAT_OPS, (5.0, 0.0, 0.0, extra))
    assert stepped == pytest.approx(2 * p + 2 * t, rel=1e-12)
    before = mirrored_rank_params(ends, plan.one_row, deepspeed, FLOAT_OPS, (5.0, 0.0, 0.0, 5.0))  # (e 5: 0 beside)
    assert before == pytest.approx(5 * p, rel=1e-12)
