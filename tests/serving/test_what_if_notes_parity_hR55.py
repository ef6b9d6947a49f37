"""Session 48 review (hR55) of session 47's serving code: serve and serve-plan say the same what-if lines.

`serve` passed its deployment's stack reference (`Deployment.stack`, the YAML path) to
`release_tables.what_if_notes`; `serve-plan` passed the stack's `name` field, which for a release YAML
(trtllm-1.2.0rc6.yaml, name `trtllm-1.2.0rc6`) resolves to its shipped family profile (trtllm-0.x, no kernel
tables): the "measured tables ... are not used" line went missing from serve-plan's answer on a peak what-if.
"""

from __future__ import annotations

from pathlib import Path

import infraplan
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving

TRTLLM = str(Path(infraplan.__file__).parent / "validation" / "data" / "stacks" / "trtllm-1.2.0rc6.yaml")


def _what_if_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "measured tables" in line or "inherited by the what-if" in line]


def test_serve_and_serve_plan_give_one_deployment_the_same_what_if_notes(tmp_path: Path) -> None:
    part = tmp_path / "h200-fp8x2.yaml"
    part.write_text("extends: h200\npeak_flops_per_s: {fp8: 3958e12, mxfp8: 3958e12}\n")
    plan = search_capacity("llama3-8b", str(part), 4.0, input_len=2000, output_len=200, ttft_slo=2.0,
                           tpot_slo=0.05, dtypes=("fp8",), requests=300, disaggregation=False, stack=TRTLLM,
                           max_gpus=2)
    assert plan.feasible and plan.deployment is not None
    dep = plan.deployment
    served = estimate_serving("llama3-8b", str(part), dep.gpus, tp=dep.tp, pp=dep.pp, dtype=dep.dtype,
                              kv_dtype=dep.kv_dtype, max_batch=dep.max_batch, rate=4.0, input_len=2000,
                              output_len=200, requests=300, stack=TRTLLM)
    lines = _what_if_lines(served.warnings)
    assert len(lines) == 2 and "are not used on h200-fp8x2" in lines[0]  # the tables' line and the price's
    assert _what_if_lines(plan.notes) == lines
