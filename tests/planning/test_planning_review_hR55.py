"""Session 48 review (hR55) of session 47's planning code.

hC51's `_system_named` helper was inserted at module level between `PoolSpec`'s validators, so `_stack_runs_here`
became a nested function after its `return`: a fleet-mix pool's `stack` was no longer checked when the spec is read
(TensorRT-LLM on an AMD or CPU pool passed validation; only `fleet-mix`'s run-time `check_pool_stacks` caught it,
after the spec had been accepted, and nothing checked it for a spec validated on its own).
A campus's power budget of inf W (the Python API, a sweep point) was refused as "must be positive, got inf W".
"""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from infraplan.errors import InputError
from infraplan.planning.campus import plan_campus
from infraplan.planning.fleet_spec import FleetSpec, PoolSpec

CHAT = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 10}


@pytest.mark.parametrize(("device", "stack", "words"), [
    ("mi300x", "trtllm-0.x", "not for mi300x"),  # TensorRT-LLM's kernels are NVIDIA's alone
    ("epyc-9654", "vllm-0.x", "does not run LLM serving"),  # a CPU pool
])
def test_a_pools_stack_is_checked_when_the_fleet_spec_is_read(device: str, stack: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        FleetSpec.model_validate({"services": [CHAT], "pools": [{"name": "p", "device": device, "stack": stack}]})
    assert "_stack_runs_here" in PoolSpec.__pydantic_decorators__.model_validators  # a validator of the class
    ok = FleetSpec.model_validate({"services": [CHAT], "pools": [{"name": "p", "device": "h100-sxm",
                                                                   "stack": "trtllm-0.x"}]})
    assert ok.pools[0].stack == "trtllm-0.x"


@pytest.mark.parametrize("power_w", [math.inf, math.nan, -1e6])
def test_a_campus_budget_must_be_positive_and_finite(power_w: float) -> None:
    with pytest.raises(InputError, match="--power must be positive and finite, got"):
        plan_campus(power_w, "gb200")
