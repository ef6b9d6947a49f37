"""meta-llama3's pipeline cut as the Llama 3 paper made it: fixed by hand, not re-cut with the stages' time (hZ47,
session 45; `Stack.pipeline_partition: units` in catalog/stacks/meta-llama3.yaml).

The paper (arXiv:2407.21783) sec. 3.3.2: "we reduce one Transformer layer each from the first and the last stages":
Llama 3 405B's 126 layers on 16 stages, 128 layer slots of 8, the embedding and the output layer + loss one slot each
at the ends: 7 / 8 x 14 / 7 (by hand). The stack cut by the plan's rates before (`time`): the same 7 / 8 / 7 on the
405B validation plans (so no validation row moves), but a different cut on other models and parts, moving with FLOPs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tests.training.conftest import META_LLAMA3_TIME
from tests.training.test_metamorphic_hX1_hardware import train, what_if

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.memory import kind_layers
from infraplan.training.pipeline_partition import partition_stage_layers
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import balanced_split

LLAMA3 = load_stack("meta-llama3")


def _kinds(model: str, system: str | Cluster, gpus: int, tp: int, pp: int, stack: Any) -> list[float]:
    """(middle, first, last) stage kinds' decoder layers of the split the step time prices (1F1B)."""
    shape = load_model(model)
    cluster = (system if isinstance(system, Cluster) else Cluster.resolve(system).for_gpus(gpus)).placed(gpus)
    plan = PlanArrays.one_plan(tp=tp, pp=pp, dp=gpus // (tp * pp), cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=2048, seq_len=8192, recompute=0, zero=1, dtype=0, attention=0, order=0,
                               sequence_parallel=1, schedule=0)
    split = balanced_split(shape, cluster, plan, stack)
    layers = kind_layers(shape, plan, stack, split)
    assert layers is not None
    return [float(np.ravel(x)[0]) for x in layers[:3]]


def test_the_stack_cuts_the_papers_fixed_units() -> None:
    assert LLAMA3.pipeline_split == "balanced" and LLAMA3.pipeline_partition == "units"
    assert "3.3.2" in (LLAMA3.pipeline_partition_source or "")


def test_405b_on_16_stages_is_the_papers_cut() -> None:
    """7 / 8 x 14 / 7 by hand (128 slots of 8, an end slot each for the embedding and the output + loss), and the
    step's stage kinds hold it: the middle 8, the ends 7 (as the time cut had them on the paper's H100s)."""
    assert partition_stage_layers(load_model("llama3-405b"), 16, "units") == (7, *[8] * 14, 7)
    assert _kinds("llama3-405b", "meta-genai-roce-24k", 2048, 8, 16, LLAMA3) == [8.0, 7.0, 7.0]
    assert _kinds("llama3-405b", "meta-genai-roce-24k", 2048, 8, 16, META_LLAMA3_TIME) == [8.0, 7.0, 7.0]


def test_rates_never_recut_meta_llama3() -> None:
    """Llama 3 8B PP4 (34 slots: 9 / 9 / 8 / 8, ends one short: 8 / 9 / 8 / 7): the same stage kinds at 1x and 4x
    the FLOPs, where the time cut moves layers as the LM head's share of a stage's time changes (first / middle most
    / last 8 / 9 / 6 at 1x, 9 / 9 / 5 at 4x)."""
    gpus = 32
    kinds = [_kinds("llama3-8b", what_if("dgx-h100-superpod", gpus, "flops", f), gpus, 1, 4, LLAMA3)
             for f in (1.0, 4.0)]
    assert kinds == [[9.0, 8.0, 7.0]] * 2
    timed = [_kinds("llama3-8b", what_if("dgx-h100-superpod", gpus, "flops", f), gpus, 1, 4, META_LLAMA3_TIME)
             for f in (1.0, 4.0)]
    assert timed[0] != kinds[0] and timed[0] != timed[1]  # (the time cut: another cut here, and it moves)
    kw: dict[str, Any] = dict(gpus=gpus, tp=1, pp=4, global_batch=64, seq_len=4096, micro_batch=1, schedule="1f1b")
    base = train("llama3-8b", what_if("dgx-h100-superpod", gpus, "flops", 1.0), stack=LLAMA3, **kw)
    faster = train("llama3-8b", what_if("dgx-h100-superpod", gpus, "flops", 4.0), stack=LLAMA3, **kw)
    assert faster.memory_per_gpu_bytes == base.memory_per_gpu_bytes
    assert faster.step_time_s < base.step_time_s
