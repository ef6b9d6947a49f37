"""DeepSpeed's pipeline partition as it runs (`Stack.pipeline_partition`, `training.pipeline_partition`; hS46).

The deepspeed stack cuts its stages as `PipelineModule(partition_method="parameters")` does: DeepSpeed's
`partition_balanced` (the least spread of the stages' parameter counts) over the layer list, fixed by the model and PP;
before, its balanced split was the time-balanced bisection, which re-cut the stages as FLOP rates moved (and the
memory with them). The port is checked against DeepSpeed 0.14.4's own function's outputs (runtime/utils.py:562-621,
run from the PyPI wheel on the vectors below: the expected boundaries are its answers, not this port's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.test_metamorphic_hX1_hardware import train, what_if

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.memory import kind_layers
from infraplan.training.mirrored_stages import end_stage_capacities
from infraplan.training.pipeline_partition import (
    deepspeed_layer_weights,
    partition_balanced,
    partition_end_layers,
    partition_stage_layers,
    partition_uniform,
    partitioned_stage,
)
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import balanced_split

DEEPSPEED = load_stack("deepspeed")
DEEPSPEED_TIME = DEEPSPEED.model_copy(update={"pipeline_partition": "time"})  # (the cut before hS46)

# (weights, parts) -> DeepSpeed 0.14.4 partition_balanced's boundaries, printed by its own function
DEEPSPEED_ANSWERS = [
    (([5, 1, 1, 1, 1, 1, 1, 5], 3), [0, 2, 7, 8]),
    (([0, 1, 1, 1, 1, 1, 1, 1, 0, 0], 4), [0, 3, 5, 7, 10]),  # a type:transformer list: 0 for the tables
    (([3, 3, 3, 3, 3, 3], 4), [0, 2, 4, 5, 6]),  # ties: the latest cut of the least spread
    (([9, 2, 7, 1, 8, 2, 8, 1, 8], 3), [0, 3, 6, 9]),
    (([4, 4], 3), [0, 1, 2, 2]),  # fewer items than parts: partition_uniform
    (([525336576, *[218103808] * 32, 4096, 525336576], 8), [0, 3, 8, 13, 18, 23, 27, 31, 35]),  # llama3-8b
    (([1, 2, 3], 1), [0, 3]),
]


@pytest.mark.parametrize(("case", "answer"), DEEPSPEED_ANSWERS)
def test_partition_balanced_gives_deepspeeds_answers(case: tuple[list[int], int], answer: list[int]) -> None:
    weights, parts = case
    assert partition_balanced([float(w) for w in weights], parts) == answer


def test_partition_uniform_gives_deepspeeds_answers() -> None:
    """DeepSpeed 0.14.4 partition_uniform(35, 8), (3, 5) and (34, 4), printed by its own function."""
    assert partition_uniform(35, 8) == [0, 5, 10, 15, 19, 23, 27, 31, 35]
    assert partition_uniform(3, 5) == [0, 1, 2, 3, 3, 3]
    assert partition_uniform(34, 4) == [0, 9, 18, 26, 34]


def test_llama3_8b_splits_as_deepspeed_cuts_it() -> None:
    """llama3-8b (32 layers of 218.1 M parameters, 525.3 M per table): 16 / 16 on PP2 (the time split gives 17 / 15),
    7 / 9 / 9 / 7 on PP4 and no decoder layer on the end stages on PP16 (each table outweighs two layers)."""
    shape = load_model("llama3-8b")
    weights = deepspeed_layer_weights(shape, "parameters")
    layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336  # q, o; k, v (8 KV heads of 128); SwiGLU
    assert weights == [128256 * 4096, *[float(layer)] * 32, 4096.0, 128256 * 4096]
    assert partition_stage_layers(shape, 2, "parameters") == (16, 16)
    assert partition_stage_layers(shape, 4, "parameters") == (7, 9, 9, 7)
    pp16 = partition_stage_layers(shape, 16, "parameters")
    assert pp16[0] == pp16[-1] == 0 and sum(pp16) == 32
    assert partition_stage_layers(shape, 4, "type:transformer") == (8, 8, 8, 8)
    # uniform: 35 items cut [0, 9, 18, 27, 35] (partition_uniform(35, 4)): items 0..8 | 9..17 | 18..26 | 27..34, the
    # last holding layers 27..32, the norm (33) and the head (34)
    assert partition_stage_layers(shape, 4, "uniform") == (8, 9, 9, 6)


def test_partition_ends_of_arrays_and_one_plan_agree() -> None:
    shape = load_model("llama3-8b")
    first, middle, last = partition_end_layers(shape, np.array([1, 2, 4, 16, 4]), "parameters")
    assert first.tolist() == [32.0, 16.0, 7.0, 0.0, 7.0] and last.tolist() == [32.0, 16.0, 7.0, 0.0, 7.0]
    assert middle.tolist() == [0.0, 0.0, 9.0, 3.0, 9.0]
    assert partition_end_layers(shape, 4.0, "parameters") == (7.0, 9.0, 7.0)


@pytest.mark.parametrize(("t", "e", "h", "expected"), [
    (1.0, 3.0, 1.0, (10.0, 7.0, False, True)),  # 7 + 3 > 9 > 7 + 1: the first
    (1.0, 1.0, 2.5, (9.5, 7.0, True, False)),  # 7 + 2.5 > 9: the last
    (1.0, 2.0, 2.0, (9.0, 9.0, False, False)),  # ties with both ends: the middle
    (2.0, 1.0, 0.5, (18.0, 9.0, False, False)),
])
def test_the_pace_is_the_slowest_of_the_cut(t: float, e: float, h: float,
                                           expected: tuple[float, float, bool, bool]) -> None:
    """7 / 9 / 9 / 7 by hand: first 7 t + e, middle 9 t, last 7 t + h; floats and arrays alike."""
    assert partitioned_stage(4.0, 7.0, 9.0, 7.0, t, e, h) == expected
    arrays = partitioned_stage(np.array([4.0]), np.array([7.0]), np.array([9.0]), np.array([7.0]), np.array([t]),
                               np.array([e]), np.array([h]))
    assert tuple(np.ravel(x)[0] for x in arrays) == expected


def _split_and_layers(shape_name: str, system: str, gpus: int, tp: int, pp: int, stack: Any,
                      cluster: Cluster | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    shape = load_model(shape_name)
    cluster = cluster or Cluster.resolve(system).for_gpus(gpus).placed(gpus)
    plan = PlanArrays.one_plan(tp=tp, pp=pp, dp=gpus // (tp * pp), cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=8 * gpus // (tp * pp), seq_len=4096, recompute=0, zero=1, dtype=0,
                               attention=0, order=0, sequence_parallel=1, schedule=int(Schedule.ONE_F_ONE_B))
    split = balanced_split(shape, cluster, plan, stack)
    assert split is not None
    layers = kind_layers(shape, plan, stack, split)
    assert layers is not None
    return (tuple(float(np.ravel(x)[0]) for x in split[:3]),
            tuple(float(np.ravel(x)[0]) for x in layers[:3]))


@pytest.mark.parametrize(("pp", "middle", "first", "last"), [(2, 0.0, 16.0, 16.0), (4, 9.0, 7.0, 7.0),
                                                             (8, 5.0, 2.0, 2.0), (16, 3.0, 0.0, 0.0)])
def test_the_memory_prices_the_stages_deepspeed_builds(pp: int, middle: float, first: float, last: float) -> None:
    """llama3-8b on deepspeed, PP 2-16 on H100: the memory's stage kinds (`memory.kind_layers`: middle, first, last)
    hold the cut's layers (PP2 16 / 16, PP4 7 / 9 / 9 / 7, PP8 2 / 5 5 5 5 4 4 / 2, PP16 0 / 3 ... / 0), whichever
    stage sets the pace; the step's heaviest holds the layers of its kind."""
    split, layers = _split_and_layers("llama3-8b", "dgx-h100-superpod", 8 * pp, 1, pp, DEEPSPEED)
    if pp == 2:
        assert layers[1:] == (first, last)
    else:
        assert layers == (middle, first, last)
    heaviest, first_heavy, last_heavy = split
    kind = 1 if first_heavy else 2 if last_heavy else 0
    assert heaviest == layers[kind]


def test_the_ends_hold_the_cut_in_the_step_time() -> None:
    """`end_stage_capacities` of a fixed cut: the layers its ends hold, whole, whatever the pace (the time split's
    are the ends' room at the pace)."""
    times = {"partition_first_layers": np.array([7.0, 0.0]), "partition_last_layers": np.array([7.0 + 1e-15, 0.0])}
    first, last = end_stage_capacities(times, np.array([9.0, 3.0]), False)
    assert first.tolist() == [7.0, 0.0] and last.tolist() == [7.0, 0.0]
    assert end_stage_capacities({k: v[0] for k, v in times.items()}, 9.0, True) == (7.0, 7.0)


PLANS = [("llama3-8b", "dgx-h100-superpod", 16, 1, 2), ("llama3-8b", "dgx-h100-superpod", 32, 1, 4),
         ("llama3-8b", "dgx-h100-superpod", 64, 1, 8), ("llama3-8b", "dgx-h100-superpod", 128, 1, 16),
         ("qwen3-32b", "dgx-b200", 64, 2, 4), ("llama3-70b", "dgx-h100-superpod", 256, 8, 8)]


@pytest.mark.parametrize("figure", ["flops", "hbm", "nic"])
def test_rates_never_recut_a_parameters_partition(figure: str) -> None:
    """Metamorphic: FLOP rate, HBM or NIC bandwidth x 1.25 / 2 / 4 leave deepspeed's stages and memory as they were
    (the cut reads the model and PP alone); the time-balanced cut of the same stack re-cuts on some of these plans
    (so the property is not vacuous: its memory moves with the FLOP rate)."""
    moved = 0
    for model, system, gpus, tp, pp in PLANS:
        kw: dict[str, Any] = dict(gpus=gpus, tp=tp, pp=pp, seq_len=4096, global_batch=8 * gpus // (tp * pp),
                                  micro_batch=1, zero=1, schedule="1f1b")
        for factor in (1.25, 2.0, 4.0):
            base = train(model, what_if(system, gpus, figure, 1.0), stack=DEEPSPEED, **kw)
            faster = train(model, what_if(system, gpus, figure, factor), stack=DEEPSPEED, **kw)
            assert faster.memory_per_gpu_bytes == base.memory_per_gpu_bytes, (model, pp, factor)
            assert faster.step_time_s <= base.step_time_s * (1 + 5e-3)
            if figure == "flops":
                time_base = train(model, what_if(system, gpus, figure, 1.0), stack=DEEPSPEED_TIME, **kw)
                time_faster = train(model, what_if(system, gpus, figure, factor), stack=DEEPSPEED_TIME, **kw)
                moved += time_faster.memory_per_gpu_bytes != time_base.memory_per_gpu_bytes
    assert figure != "flops" or moved > 0


def test_a_fixed_cut_needs_a_balanced_split_and_a_source() -> None:
    with pytest.raises(ValueError, match="cuts a balanced split"):
        DEEPSPEED.model_validate({**DEEPSPEED.model_dump(), "pipeline_split": "even"})
    with pytest.raises(ValueError, match="pipeline_partition needs pipeline_partition_source"):
        DEEPSPEED.model_validate({**DEEPSPEED.model_dump(), "pipeline_partition_source": None})
    assert load_stack("meta-llama3").pipeline_partition == "units"  # (the paper's fixed cut; hZ47, session 45)
