"""The `infraplan serve` line that reruns a `serve-plan` answer's whole run exactly (`capacity.search_capacity`'s
`serve_command`): the same deployment, requests, seed and stack, so its percentiles are the answer's."""

from __future__ import annotations

import shlex

from infraplan.serving.results import ServingPlanResult
from infraplan.units import number_text


def serve_command(r: ServingPlanResult, model: str, system: str, workload: str | None, input_len: int | None,
                  output_len: int | None, seed: int, stack: str | None) -> str | None:
    """The `infraplan serve` line that reruns the chosen deployment's full run exactly (same requests, same seed):
    `serve` alone simulates 2,000 requests, the full run `full_run_requests`, so their percentiles differed. In the
    plan as `serve_command` (as `search`'s rows carry `train_command`), so --json and the web give it too."""
    from infraplan.catalog.stacks import DEFAULT_SERVING_STACK

    d, slo = r.deployment, r.slo
    if not r.feasible or d is None or slo is None or r.gpus is None or r.full_run_requests is None:
        return None
    args = ["infraplan", "serve", model, "--system", system, "--gpus", str(r.gpus), "--tp", str(d.tp), "--pp",
            str(d.pp)]
    if d.attention_dp > 1:
        args += ["--attention-dp", str(d.attention_dp)]
    if d.ep > 1:
        args += ["--ep", str(d.ep)]
    args += ["--dtype", d.dtype, "--kv-dtype", d.kv_dtype, "--max-batch", str(d.max_batch), "--token-budget",
             str(d.token_budget)]
    if d.speculative_tokens:  # the drafts the search priced (`capacity_space`)
        args += ["--speculative-tokens", str(d.speculative_tokens), "--acceptance", number_text(d.acceptance)]
    if d.disaggregated and d.prefill is not None:
        args += ["--prefill-gpus", str(d.prefill.gpus)]
    if workload is not None:
        args += ["--workload", workload]
    if input_len is not None:
        args += ["--input-len", str(input_len)]
    if output_len is not None:
        args += ["--output-len", str(output_len)]
    args += ["--rate", number_text(r.rate_per_s), "--requests", str(r.full_run_requests), "--seed", str(seed)]
    if slo.ttft_s is not None:
        args += ["--ttft-slo", number_text(slo.ttft_s)]
    if slo.tpot_s is not None:
        args += ["--tpot-slo", number_text(slo.tpot_s)]
    args += ["--stack", stack or r.stack or DEFAULT_SERVING_STACK]
    return shlex.join(args)
