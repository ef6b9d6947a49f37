"""The same question asked two ways (hC70, session 49): `serve-plan`'s answer is `serve` of its `serve_command` on
the parts hX3's cases (tests/serving/test_two_ways_hX3_serve_plan.py: H100, GB200) did not reach: MI300X, where
the serving stack defaults to the vendor's (vLLM), and a B200 board choosing NVFP4 among two precisions.

Every figure of the run, the deployment and both error bands' numbers are equal. The bands' basis differs by one
clause on MI300X, on purpose: serve-plan was not given a stack and says the default is the vendor's ("vllm-0.x is
the default serving stack on this part's vendor, not trtllm-0.x"); its `serve_command` writes `--stack vllm-0.x`,
so `serve` was given it and has nothing to say.
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

PLANS = {
    "mi300x-vendor-stack": "llama3-70b --system mi300x-cluster --rate 20 --workload chat --requests 400",
    "b200-nvfp4": "llama3-70b --system dgx-b200 --rate 30 --workload chat --dtypes nvfp4,fp8 --requests 400",
}
DEFAULT_STACK_CLAUSE = "; vllm-0.x is the default serving stack on this part's vendor, not trtllm-0.x"


@pytest.mark.parametrize("case", sorted(PLANS))
def test_serve_plans_answer_is_serve_of_its_command(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLANS[case])])
    assert plan["feasible"] and plan["meets_slo_full_run"], case
    served = serve_of_its_command(capsys, plan, same_bands=False)  # the bands' basis differs (module docstring)
    for key in ("stack", "model", "system", "accelerator"):
        assert served[key] == plan[key], (case, key)
    assert plan["stack"] == ("vllm-0.x" if case.startswith("mi300x") else "trtllm-0.x")
    for band in ("error_band", "ttft_error_band"):
        planned, alone = dict(plan[band]), dict(served[band])
        basis = planned.pop("basis")
        assert alone.pop("basis") == basis.replace(DEFAULT_STACK_CLAUSE, "") and planned == alone, (case, band)
        assert (DEFAULT_STACK_CLAUSE in basis) == case.startswith("mi300x")
