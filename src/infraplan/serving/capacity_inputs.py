"""What `serve-plan`'s capacity search (`serving.capacity.search_capacity`) refuses of its inputs, one line each (exit
2 in the CLI), as the CLI's and the web's bounds say them: the rate, SLOs, accelerator limit, probe size, lengths,
workload, model kind and percentile before the stack, model and system are read (`checked_inputs`), and the weight
dtypes after (`checked_dtypes`). Moved out of `serving.capacity` unchanged (hL76: capacity.py was at its 400-line
cap), with the constants they check against (`DTYPES`, `SLO_PERCENTILES`; `serving.capacity` re-exports them).
"""

from __future__ import annotations

from infraplan import bounds
from infraplan.catalog.serving_loader import WorkloadSpec, list_serving_presets, load_workload
from infraplan.errors import InputError
from infraplan.limits import MAX_PROBE_REQUESTS
from infraplan.serving.capacity_answer import image_sizing
from infraplan.serving.kv_cache import WEIGHT_DTYPES
from infraplan.serving.serve_inputs import check_lengths, check_slos, plan_slos

DTYPES = WEIGHT_DTYPES  # serve's weight dtypes (`ops.precision.SERVING_FORMATS`)
SLO_PERCENTILES = {50.0: "p50", 90.0: "p90", 99.0: "p99"}  # --percentile: the run's reported percentile it names


def checked_inputs(model: str, rate: float, workload: str | None, input_len: int | None, output_len: int | None,
                   ttft_slo: float | None, tpot_slo: float | None, percentile: float, max_gpus: int | None,
                   requests: int) -> tuple[WorkloadSpec | None, float, float | None, list[str]]:
    """The workload (None: fixed lengths) and the SLOs judged (`plan_slos`: TTFT, TPOT or None, their notes), or
    InputError, one line, for the first input refused, in the order `search_capacity` checked them."""
    bounds.ARRIVAL_RATE.check(rate, "--rate")  # the CLI's bound, one line as it says it (hK66: inf an OverflowError)
    check_slos(ttft_slo, tpot_slo)
    if max_gpus is not None:  # (hK66: max_gpus=0 ran)
        bounds.ACCELERATORS.check(max_gpus, "--max-gpus")
    if not 1 <= requests <= MAX_PROBE_REQUESTS:  # the CLI's and the web's bound, for the API and sweeps too (hK71)
        raise InputError(f"--requests must be 1..{MAX_PROBE_REQUESTS:,} requests per probe, got {requests:,}")
    if (input_len is None) != (output_len is None):  # as `serve`: one length beside --workload was dropped in
        # silence, and the printed `serve` line, carrying both, was refused by `serve` (hU55)
        raise InputError("--input-len and --output-len go together"
                         + (f" (--workload {workload} draws both lengths)" if workload else ""))
    if (workload is None) == (input_len is None):
        raise InputError("give --workload or both --input-len and --output-len")
    check_lengths(input_len, output_len)  # (hR66: input_len=nan was numpy's ValueError)
    spec = load_workload(workload) if workload else None
    if spec is not None and spec.kind != "llm":
        sized = image_sizing(str(workload)) if spec.kind == "diffusion" else ""
        raise InputError(f"serve-plan searches LLM deployments; workload {workload!r} is {spec.kind}{sized}")
    if model in list_serving_presets("diffusion"):  # `serve`'s "is a diffusion model", not "unknown model" (hH66)
        raise InputError(f"{model} is a diffusion model; serve-plan searches LLM deployments"
                         f"{image_sizing('image-generation')}")
    ttft, tpot, slo_notes = plan_slos(spec, ttft_slo, tpot_slo, output_len)  # tpot None: --output-len 1 (hR73)
    if percentile not in SLO_PERCENTILES:  # the whole run is judged on the percentiles a run reports (hU47: 95
        # was judged at p90, 80 at p50, while the probes took the exact one)
        raise InputError(f"--percentile must be 50, 90 or 99 (the percentiles a serving run reports), got "
                         f"{percentile:g}")
    return spec, ttft, tpot, slo_notes


def checked_dtypes(dtypes: tuple[str, ...]) -> None:
    """InputError, one line, for a weight dtype not known (`DTYPES`) or given twice."""
    unknown = set(dtypes) - set(DTYPES)
    if unknown:
        raise InputError(f"unknown dtype {sorted(unknown)[0]!r}; choose from {', '.join(DTYPES)}")
    # a dtype given twice searched every layout twice and listed the answer among its alternatives (hW71)
    if twice := next((d for i, d in enumerate(dtypes) if d in dtypes[:i]), None):
        raise InputError(f"--dtypes {','.join(dtypes)}: {twice} is given twice; give each dtype once")
