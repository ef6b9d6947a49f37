"""hI66 mutation wave: the colocated decode bound (`capacity_decode.mixed_step_s`) on models whose head table holds
the decode rows' own attention (`IterationCost.decode_row_s`, hC65), mutants S40 / S41.

hM26's two rules, on models where the rows' part exists (llama3-8b's is None, so its tests cannot see it):
* it is a bound: an iteration of P prompt tokens beside D decode sequences, F of its sampled rows finishing prompts
  (their rows pay no decode attention), lasts at least the bound at D;
* it is the least: where the tables grow with k and no host floor binds, the pure decode iteration of k sequences
  with nothing cached lasts exactly it (a decode step pays its k rows' attention: body + head + fixed + overhead).
GPT-OSS-120B's sliding-window layers read W cached tokens a decode row (`head_s`); DeepSeek-V3.2's DSA core reads
top-k keys a decode row.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_decode import mixed_step_s
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost

H200 = Cluster.resolve("hgx-h200")
CASES = {"gpt-oss-vllm": ("gpt-oss-120b", "vllm", "vllm-0.x", "mxfp4", "bf16"),
         "v3.2-vllm": ("deepseek-v3.2", "vllm", "vllm-0.x", "fp8", "fp8")}


def _cost(case: str):
    model, engine, stack, dtype, kv = CASES[case]
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype=dtype, kv_dtype=kv, engine=engine, stack=stack,
                     max_batch=64, token_budget=8192)
    return build_iteration_cost(load_model(model), H200.accelerator, H200.fabric, dep)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_pure_decode_step_attains_it(case: str) -> None:
    cost = _cost(case)
    assert cost.decode_row_s is not None and cost.decode_row_s[8] > 0.0  # the rows' part exists here
    k = np.arange(1, 33)
    assert np.all(np.diff(cost.body_s[:40]) >= 0) and np.all(np.diff(cost.head_s[:40]) >= 0)
    pure = cost.time(np.zeros(32), k, np.zeros(32), np.zeros(32))
    assert mixed_step_s(cost, 32) == pytest.approx(pure, rel=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_it_bounds_mixed_iterations_with_finishing_rows(case: str) -> None:
    cost = _cost(case)
    low = mixed_step_s(cost, 32)
    d = np.repeat(np.arange(1, 33), 4)
    p = np.tile([1, 16, 512, 4096], 32)
    for finishing in (0, 1, 4):
        t = cost.time(p, d, np.zeros(len(d)), np.zeros(len(d)), rows=d + np.minimum(finishing, p))
        assert np.all(t >= low[d - 1] * (1 - 1e-12))
