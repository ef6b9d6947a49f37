"""`serve` / `serve-plan` charge a job on an accelerator preset as `train --tokens` does (hI, session 53).

hH53 decided one rule for a job's power and cost on a preset (`cluster.cost.job_accelerators` / `job_site_cost`):
the facility of its own accelerators, housed in whole servers (trays) and the racks they fill, as `facility
--accelerator A --count N` builds it within one zone; not the share of the generic fabric's round-up
(`generic.clos_tiers`: 100 GB200 on a 108-GB200 Clos). `serve` still priced its $/GPU-hour on the rounded cluster
(`cluster_site_cost` of `Cluster.for_gpus(N)`): 100 GB200 $1.4338/GPU-h against facility's $1.4484; 4 GB200 (a
cluster of 8 by default) $1.5870 against $1.9169 (one tray and its rack's shared parts); a serve-plan answer of
1 GB200 the same. Now `serving_api`, `capacity` (serve-plan) and `diffusion` price with `job_site_cost`
(`usd_per_accelerator_hour_if_priced(..., gpus=N)`), and `serving_fabric_note`'s Clos figures beyond one zone are
`train --tokens`' for that count ($/GPU-h and W per GPU).

`serve`'s `power_w_per_gpu` is another quantity (the run's mean device power, idle + dynamic by busy time, plus its
node's host share; no PUE, network or storage: `serving_metrics.power_terms`), read from the node, not the rounded
cluster; it is not facility's peak and is not compared here.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infraplan.cluster import Cluster
from infraplan.facility.facility import size_facility
from infraplan.planning.training_run import serving_with_fabric_note, training_run_totals
from infraplan.serving.capacity import search_capacity
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving
from infraplan.training.estimate import estimate_training

EXAMPLES = int(os.environ.get("HI53_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9
PARTS = ("gb200", "gb300", "h100-sxm", "b200", "mi300x", "h800")  # gb300: no catalog price, both unpriced


def _serve(part: str, gpus: int) -> ServingResult:
    result = estimate_serving("llama3-8b", part, gpus, tp=1, input_len=128, output_len=16, offline=True, requests=8)
    assert isinstance(result, ServingResult)
    return result


@FUZZ
@given(st.sampled_from(PARTS), st.integers(1, 2016))
@example("gb200", 100)  # 25 trays on a 108-GB200 Clos: was $1.4338 (the Clos's 27 trays), facility $1.4484
@example("gb200", 4)  # one tray and its rack's switch trays: was $1.5870 (a cluster of 8), facility $1.9169
@example("h100-sxm", 12)  # two whole servers both ways ($1.1934 before and after)
def test_serve_usd_per_gpu_hour_is_facility_of_its_count(part: str, gpus: int) -> None:
    served = _serve(part, gpus)
    facility = size_facility(accelerator=part, count=gpus)
    assert (served.usd_per_hour_per_gpu is None) == (facility.usd_per_gpu_hour is None), (part, gpus)
    if facility.usd_per_gpu_hour is None or served.usd_per_hour_per_gpu is None:
        return
    assert abs(served.usd_per_hour_per_gpu - facility.usd_per_gpu_hour) <= REL * facility.usd_per_gpu_hour, \
        (part, gpus, served.usd_per_hour_per_gpu, facility.usd_per_gpu_hour)


def test_serve_plan_answer_is_priced_as_facility_of_its_count() -> None:
    """The answer (1 GB200 at 1 req/s) priced as `facility --accelerator gb200 --count 1`: $/M tokens x tokens/s x
    3,600 / (1e6 x GPUs) is the $/GPU-hour its run used (was $1.5870, the generic cluster of 8's)."""
    plan = search_capacity("llama3-8b", "gb200", rate=1.0, workload="chat")
    s = plan.serve
    assert s.usd_per_million_tokens is not None and s.steady_output_tokens_per_s is not None
    # over the steady served rate, which the price per token is taken at (hJ57: was the whole run's tokens/s)
    price = s.usd_per_million_tokens * s.steady_output_tokens_per_s * 3600.0 / (1e6 * plan.gpus)
    facility = size_facility(accelerator="gb200", count=plan.gpus)
    assert facility.usd_per_gpu_hour is not None
    assert abs(price - facility.usd_per_gpu_hour) <= 1e-9 * facility.usd_per_gpu_hour, (plan.gpus, price)


def test_serve_beyond_one_zone_notes_train_tokens_clos_figures() -> None:
    """10,500 GB200 (beyond a 10,368-GB200 zone; 2,100 beyond the 2,016 of radix 64 until hB66): the note's Clos
    figures are `train --tokens`' for 10,500 (the job's own accelerators, `job_site_cost`), its price the one serve
    used; was the 2,124-GB200 Clos's share ($1.4277 against $1.4297) at 2,100."""
    gpus = 10500
    served = serving_with_fabric_note(_serve("gb200", gpus), Cluster.resolve("gb200"), None)
    [note] = [w for w in served.warnings if "non-blocking Clos" in w]
    trained = estimate_training("llama3-8b", "gb200", gpus, seq_len=4096, global_batch=gpus)
    run = training_run_totals(trained, "gb200", 1e12)
    assert run.usd_per_gpu_hour is not None and served.usd_per_hour_per_gpu is not None
    assert abs(served.usd_per_hour_per_gpu - run.usd_per_gpu_hour) <= REL * run.usd_per_gpu_hour
    assert f"(${run.usd_per_gpu_hour:,.3f}/GPU-h, {run.facility_power_w_per_gpu:,.0f} W per GPU)" in note
    assert f"Clos of {gpus:,} gb200" in note
