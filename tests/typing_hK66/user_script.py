"""A user's script, as `mypy --strict` checks it against infraplan's public signatures (hK66; py.typed is shipped).

Not run: `tests/test_python_api_typing_hK66.py` type-checks it. Each line is a typical call of a public name and a
use of its typed result; a signature that lost its types (Any) or a result field renamed fails the check.
"""

from __future__ import annotations

import infraplan
from infraplan import ServingResult  # the result types' import home (hU67; was serving.serve_results)
from infraplan.errors import InputError


def training_tokens_per_s() -> float:
    r = infraplan.estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8)
    best = infraplan.search_plans("llama3-8b", "dgx-h100-superpod", 8, 4096, 64, top=3).best
    return r.tokens_per_s + (best.tokens_per_s if best is not None else 0.0)


def serving_tokens_per_s() -> float:
    s = infraplan.simulate_serving("llama3-8b", "dgx-h100-superpod", 1, rate=2.0, input_len=512, output_len=128)
    p = infraplan.plan_serving("llama3-8b", "dgx-h100-superpod", 1.0, workload="chat")
    gpus: int | None = p.gpus
    assert isinstance(s, ServingResult)  # an image model answers an ImageServingResult: narrowed, as mypy asks
    return (s.output_tokens_per_s or 0.0) + float(gpus or 0)  # None where the deployment does not fit


def facility_usd() -> float:
    f = infraplan.plan_facility("dgx-h100-superpod", location="ohio")
    c = infraplan.plan_campus(100e6, "h100-sxm")
    if f.capex_total_usd is None or c.capex_usd is None:  # None: no price for the part (cost_reason says why)
        return 0.0
    return f.capex_total_usd + c.capex_usd["servers"]


def others() -> list[object]:
    cluster = infraplan.Cluster.resolve("dgx-h100-superpod")
    shape = infraplan.load_model("llama3-8b")
    layers: int = shape.num_layers
    return [infraplan.estimate_recsys("dlrm-high", "mtia-v2", latency_slo_s=0.02).qps,
            infraplan.estimate_video("msvp", "1080p30", daily_hours=1000.0).streams_per_device,
            infraplan.plan_scenario("examples/plan-minimal.yaml").devices,
            infraplan.compare_scenarios(["a.yaml", "b.yaml"]).deltas,
            infraplan.plan_fleet("examples/fleet-mix.yaml").totals,
            infraplan.run_sweep("spec.yaml", "out", workers=1).rows,
            infraplan.run_validation().summary.mean_abs_error,
            cluster.accelerator.memory_bytes, layers]


def refused() -> str:
    try:
        infraplan.search_plans("llama3-8b", "dgx-h100-superpod", 8, 2048, 512, top=0)
    except InputError as err:
        return str(err)
    return ""
