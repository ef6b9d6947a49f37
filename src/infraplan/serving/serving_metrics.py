"""The metrics of a serving run (`serving.serving_sim`): latencies per request and their percentiles, totals
over the run, SLO attainment, power, energy and cost.

Per request: TTFT (arrival to first token, plus the stack's front-end time per request `request_latency_s`:
HTTP server, tokenizer, hand-off to the engine, first token streamed back; `serving.engines`; disaggregated: the
decode worker's first token, `serving.disaggregated.decode_first_token_s`; an engine loop that schedules ahead
starts a request one iteration later, `serving.request_intake`), TPOT ((last -
first token) / (output - 1)), end-to-end latency (with the same front-end time). ASSUMPTION: the front-end time
delays what the client sees, not the engine's arrival (it runs beside the engine loop). Physically a closed loop's
client holds it, and the schedule-ahead lag, in its cycle (Little's law): `serving.client_loop.FRONT_END_IN_CYCLE`
and `LAG_IN_CYCLE` put them there, off by default (measured worse on the sets: that module's docstring).
Totals over the run (first arrival to last token): output tokens/s (and `serving.steady_state`'s tokens/s while
requests arrive), requests/s, p50/p90/p99, SLO attainment (the share of requests meeting both SLOs; null where no
SLO was given, none to attain; `ttft_over_slo_count` / `tpot_over_slo_count` the requests over each, strictly, as
LoadGen's early stopping counts them, and `ttft_over_slo_by_batch_count` / `tpot_over_slo_by_batch_count` the same
counts in OVER_SLO_BATCHES consecutive batches by arrival: over-SLO requests come in bursts, which a batch-means
bound reads, `serving.capacity_confidence`), the mean
end-to-end latency of the last 1 % of arrivals (`e2e_last_arrivals_s`, the drain tail; `validation.loadgen`).

Power (ASSUMPTION, stated in the output): an accelerator draws its one idle figure (`cluster.power.idle_power`: the
catalog's `idle_power_w`, else the default share of TDP every command uses; the output's power assumption names
which) when idle; while an iteration runs it draws idle + (TDP - idle) * (0.5 + 0.5 * u), where u is the
iteration's tensor-core time over its duration: memory-bound decode sits near the middle of the dynamic
range, compute-bound prefill near TDP (Splitwise's measured A100/H100 power: decode phases 45-80 % of TDP,
prompt phases at TDP). The node's non-accelerator power (`host_power_w`, and its scale-up domain's switches outside
the servers: NVL72's 50 W a GPU, `cluster.host_share.node_share_w`) is shared per accelerator and always on. No
PUE. Cost: accelerators x $/hour (the cost model's owned accelerator-hour, cluster/cost.py). Per output token (J,
$ per million) at the steady served rate, not over the whole run's drain (`steady_state.served_tokens_per_s`, hJ57):
(accelerators x (idle + host) W, or x $/s) over the served tokens/s, plus the dynamic joules per token: the
dynamic watts over the later half of the arrival window (the engines' busy + tensor-core seconds between its mid and
last arrival, `serving.window_marks`, hA58) over the served tokens/s; `energy_j` and `power_w_per_gpu` stay the whole
run's (first arrival to last finish: energy_j = power_w_per_gpu x accelerators x duration_s); `steady_power_w_per_gpu`
is the draw at the steady served rate, (idle + host) W + those dynamic watts over the accelerators (joules_per_token x
served rate / accelerators, hO57): the drain after the last arrival idles the accelerators and lowers the whole run's
mean (hG57's 632 H100 at 2,000 chat requests/s: half the run is drain). The whole run's dynamic joules per token carry
the ramp and drain's small batches: 1.13 J against 0.83 J over the window on that example (1,341 W steady, above TDP
+ host; 1,157 W from the window; validation/notes/product_review_tried.md, hO session 57, hA session 58). Offline
(no window) the whole run's, said in `per_token_basis`; a closed loop reads its draw and its served rate over its
own window (`window_marks.ClosedCuts`: an aggregated one's engines each over theirs, hO58; a disaggregated pair over
the one its engines share, hO59); `steady_power_note` says a steady draw above TDP + host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.schemas import Accelerator, System
from infraplan.catalog.stacks import load_stack
from infraplan.cluster.generic import GENERIC_SYSTEM_SOURCE
from infraplan.cluster.host_share import (
    UNSTATED_HOST,
    assumed_share_note,
    assumed_share_w,
    host_share,
    node_host_share_w,
    node_share_w,
    reference_system,
    switch_share_line,
    unstated_switch_note,
)
from infraplan.cluster.power import idle_power
from infraplan.errors import InputError
from infraplan.serving import request_intake, steady_state, window_marks
from infraplan.serving.engines import load_engine
from infraplan.serving.host_overhead import graph_batch_cap
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.request_metrics import tpot_s, ttft_s
from infraplan.serving.stack_placement import assumed_default, assumed_profile
from infraplan.serving.workloads import Requests

POWER_ASSUMPTION = ("accelerator power = idle + (TDP - idle) * (0.5 + 0.5 * tensor-core utilisation) while an "
                    "iteration runs, idle power otherwise; plus the node's host power share; no PUE")


@dataclass(frozen=True)
class PoolResult:
    first_token_s: np.ndarray
    finish_s: np.ndarray
    busy_s: float
    compute_s: float
    iterations: int
    arrival_s: np.ndarray
    window_work: tuple[float, ...] | None = None  # busy + tensor-core s at the window cuts (`serving.window_marks`)
    window_rate: float | None = None  # closed loop: its engines' busy + tensor-core s per s over their own windows


# The batches a run's over-SLO counts are also given in, consecutive by arrival (`counts_by_batch`), for batch means
# (`serving.capacity_confidence.batch_means_bounds`): 10, the least of the 10-30 that Schmeiser, "Batch size effects
# in the analysis of simulation output", Operations Research 30 (1982) finds lose little (the longest batches, the
# least biased by correlation between them): README code completion's 72-H100 run (18,432 requests, TTFT) reads the
# variance of its over-SLO share 2.2x the binomial's with 640 batches, 3.1x with 40, 5.0x with 20, 8.3x with 10 (hQ56).
OVER_SLO_BATCHES = 10


def batch_starts(n: int, batches: int | None = None) -> np.ndarray:
    """The first index of each of `batches` (None: OVER_SLO_BATCHES) consecutive batches of `n` items (their sizes
    differ by at most one; n batches of one where n is fewer)."""
    b = max(1, min(OVER_SLO_BATCHES if batches is None else batches, n))
    return (np.arange(b, dtype=np.int64) * n) // b


def counts_by_batch(over: np.ndarray, batches: int | None = None) -> list[int]:
    """The true values in each of `batches` (None: OVER_SLO_BATCHES) consecutive batches of `over` (`batch_starts`;
    empty for no values)."""
    if over.size == 0:
        return []
    return [int(c) for c in np.add.reduceat(over.astype(np.int64), batch_starts(over.size, batches))]


def percentiles(values: np.ndarray, scratch: bool = False) -> dict[str, float]:
    """p50, p90, p99 (numpy's linear interpolation) and mean of the finite values; `scratch`: the caller's own
    array, which numpy may reorder in place (no copy; the mean is taken first, in the given order)."""
    finite = np.isfinite(values)
    v = values if finite.all() else values[finite]  # a copy only where some are not finite
    if v.size == 0:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
    mean = float(v.mean())
    p50, p90, p99 = np.percentile(v, [50, 90, 99], overwrite_input=scratch or v is not values)
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "mean": mean}


def unpriced_reason(accelerator: str) -> str:
    """Why a serving cost is null: the catalog has no server price for the accelerator and none was given."""
    return (f"no server price for {accelerator} in the catalog (hardware_costs.yaml); pass "
            "--usd-per-hour")


def power_terms(accelerator: Accelerator, system: System) -> tuple[float, float]:
    """(idle watts per accelerator: the part's one idle figure, host watts per accelerator: its node's host and
    scale-up switch shares, `cluster.host_share.node_share_w`)."""
    return idle_power(accelerator).watts, node_share_w(system.node)


def power_assumption(accelerator: Accelerator) -> str:
    """`POWER_ASSUMPTION` with the idle figure it used and where that figure comes from."""
    return f"{POWER_ASSUMPTION}; {idle_power(accelerator).basis}"


def host_share_line(accelerator: Accelerator, system: System) -> str:
    """The host watts per accelerator `summarize` adds, with their source: the node's, and the part's own figure
    (`cluster.host_share`) where the node is the one that figure comes from (the generic node built from the part,
    or the part's reference system itself). Another catalog system's node of equal watts (DGX H100 SuperPOD's
    4,600 W, as the RoCE 24K cluster's) is its own file's figure: the line named the reference system's (hC69)."""
    node = system.node
    line = (f"{node_share_w(node):.4g} W per accelerator: its node's {node.host_power_w:.5g} W of host over "
            f"{node.accelerators_per_node} accelerators")
    own = host_share(accelerator)
    switches = switch_share_line(node)  # NVL72's NVSwitch trays, outside the servers (hH53)
    said = [f"{node_host_share_w(node):.4g} W"] if switches else []
    ref = reference_system(accelerator.catalog_name)
    its_node = system.source == GENERIC_SYSTEM_SOURCE or UNSTATED_HOST in node.host_power_source or (
        own.basis == "system" and ref is not None and system.name == ref.name)  # (a file stating none: hN72)
    if its_node and abs(own.host_w - node_host_share_w(node)) < 1e-9:
        said.append(f"the part's {own.basis} figure: {own.host_source}")
    elif not its_node:
        said.append(f"{system.name}'s own node figure")
    line += f" ({'; '.join(said)})" if said else ""
    unstated = unstated_switch_note(system)  # a file's NVL72-like domain without its switch figure: 0 W, said
    return (line + (f", plus {switches}" if switches else "") + (f" ({unstated})" if unstated else "")
            + "; device_joules_per_token leaves it out")


def _policy_text(dep: Deployment) -> str:
    """The iteration policy the run priced, as `run_pool` takes it (`request_intake.loop_scheduler`): the stack's, or
    SGLang's prefill-first where its drafts turn the mixed chunk off (hR55: the line named the stack's sglang-adder)."""
    engine = load_engine(dep.stack)
    policy = request_intake.loop_scheduler(engine, dep.speculative_tokens)
    if policy == engine.scheduler:
        return f"{policy} policy of the stack"
    return (f"{policy} policy: the stack's {engine.scheduler} with {dep.speculative_tokens} draft tokens, which "
            "turn SGLang's mixed chunk off, serving.request_intake")


def _scheduler_line(dep: Deployment) -> str:
    """The `assumptions.scheduler` line (hG71): the policy (`_policy_text`); on a prefill-first stack, SGLang's default
    loop (sglang 0.5.6.post2 server_args.py:523 and 0.5.23 arg_groups/fields/schedule.py:208-211 `enable_mixed_chunk`
    False; managers/scheduler.py:1702-1705 "Run prefill first if possible"), what it does to clients arriving together
    and which stack prices the flag; the stack's KV admission (`kv_admission` / `preemption`: the line said "reserved
    at admission (no preemption)" on the on-demand vLLM and SGLang profiles too)."""
    engine = load_engine(dep.stack)
    waves = ("; SGLang's default, --enable-mixed-chunk off: decode waits while any prompt is pending, so clients "
             "arriving together prefill, then decode, in waves; `scheduler: sglang-adder` in a stack YAML prices the "
             "flag, as the package's validation/data/stacks/sglang-0.x-mixed-chunk.yaml"
             if engine.scheduler == "prefill-first" else "")
    kv = ("KV reserved for prompt + output at admission (no preemption)" if engine.kv_admission == "reserve_full" else
          "KV allocated as sequences grow (on demand)" + (", the newest running request preempted and recomputed "
                                                          "when the pool runs out" if engine.preemption == "recompute"
                                                          else ""))
    return (f"continuous batching, chunked prefill, FCFS ({_policy_text(dep)}: fcfs mixes prefill with decode, "
            f"prefill-first does not{waves}), {kv}, round-robin routing over replicas")


def summarize(requests: Requests, first: np.ndarray, finish: np.ndarray, pools: list[PoolResult],
              transfer: np.ndarray, dep: Deployment, accelerator: Accelerator, system: System,
              deployment: dict[str, Any], ttft_slo_s: float | None, tpot_slo_s: float | None,
              usd_per_hour: float | None, gpus: int | None = None,
              pool_tp: list[int] | None = None, cuts: Sequence[float] = (),
              closed_window: tuple[float, float] | None = None) -> dict[str, Any]:
    """The run's metrics; `gpus` and `pool_tp` (GPUs per engine of each pool) when the pools differ from `dep`;
    `cuts`: the arrival window's mid and last arrival, where the pools recorded their work (`serving.window_marks`);
    `closed_window`: a closed loop's (`window_marks.closed_window`), which its served rate is read over.
    `first` and `finish` (the client's seconds) are the caller's to give up: they become TTFT and end-to-end latency
    in place (no fresh arrays: a million requests' would take new pages)."""
    arrival, out = requests.arrival_s, requests.output_tokens
    one_token = out <= 1
    tpot = tpot_s(first, finish, out)  # `request_metrics`: the one home of the formulas; NaN for one token
    tpot[one_token] = np.nan
    duration = float(finish.max() - arrival.min())
    steady_s = steady_state.tokens_per_s_while_arriving(arrival, first, finish, out, tpot)
    # a closed loop with window marks: its tokens over its window (`steady_state.window_tokens_per_s`, hO58)
    closed_s = (steady_state.window_tokens_per_s(first, finish, out, closed_window, tpot)
                if window_marks.closed_basis(pools) else None)
    ttft = ttft_s(first, arrival, out=first)  # first and finish are read no further
    e2e = np.subtract(finish, arrival, out=finish)
    tokens_out = float(out.sum())
    ok = np.ones(len(out), dtype=bool)
    if ttft_slo_s is not None:
        ok &= ttft <= ttft_slo_s
    if tpot_slo_s is not None:
        ok &= one_token | (tpot <= tpot_slo_s)
    idle_w, host_w = power_terms(accelerator, system)
    dynamic_w = accelerator.tdp_w - idle_w
    gpus = gpus or dep.gpus
    busy = sum(p.busy_s for p in pools)
    compute = sum(p.compute_s for p in pools)
    if pool_tp is None:
        energy = gpus * (idle_w + host_w) * duration + dynamic_w * 0.5 * dep.tp * (busy + compute)
        busy_gpu_s = busy * dep.tp
    else:  # engine-seconds of each pool times its GPUs per engine
        busy_gpu_s = sum(p.busy_s * t for p, t in zip(pools, pool_tp, strict=True))
        active_gpu_s = sum((p.busy_s + p.compute_s) * t for p, t in zip(pools, pool_tp, strict=True))
        energy = gpus * (idle_w + host_w) * duration + dynamic_w * 0.5 * active_gpu_s
    # per token at the steady served rate (`steady_state.STEADY_BASIS`): the always-on watts and the price over the
    # tokens served a second, the dynamic energy per token on top; offline, the whole run's rate (the same sums)
    offered = steady_state.offered_tokens_per_s(arrival, out)
    served = steady_state.served_tokens_per_s(arrival, e2e, out)
    if served is not None and closed_s is not None:  # a closed loop: over the window of its dynamic draw
        served = closed_s
    rate = served if served is not None else tokens_out / duration
    dynamic_j = energy - gpus * (idle_w + host_w) * duration
    # dynamic joules per token at the steady rate: the dynamic W over the later half of the arrival window over the
    # served rate (`serving.window_marks`); offline, or without marks (closed loop), the whole run's, said
    window_w = window_marks.window_dynamic_w(pools, pool_tp or [dep.tp] * len(pools), cuts, dynamic_w)
    steady_dyn_j = window_w / rate if window_w is not None and served is not None else dynamic_j / tokens_out
    basis = (f"{steady_state.STEADY_BASIS}; " + (
        (window_marks.CLOSED_BASIS if window_marks.closed_basis(pools) else window_marks.WINDOW_BASIS)
        if window_w is not None else
        window_marks.fallback_basis("no window marks: a closed loop without a round trip, no client sending twice, "
                                    "or WINDOW_DYNAMIC_POWER off"))
             if served is not None else steady_state.STEADY_BASIS)
    usd = gpus * usd_per_hour / 3600.0 if usd_per_hour is not None else None  # USD a second; None: unpriced
    # `Requests` are sorted by arrival (stably): the last 1 % of arrivals are the last 1 % of rows
    last_arrivals_s = float(e2e[-max(1, len(e2e) // 100):].mean()) if len(e2e) else 0.0
    # over the SLO, by arrival (rows in arrival order); TPOT's over the requests of more than one output token
    ttft_by = counts_by_batch(ttft > ttft_slo_s) if ttft_slo_s is not None else None
    tpot_by = counts_by_batch((tpot > tpot_slo_s)[~one_token]) if tpot_slo_s is not None else None
    # the percentiles last: they may reorder ttft, tpot and e2e in place
    return {
        "fits": True,
        "deployment": deployment,
        "requests": len(out),
        "duration_s": duration,
        "output_tokens_per_s": tokens_out / duration,
        "output_tokens_per_s_per_gpu": tokens_out / duration / gpus,
        "output_tokens_per_s_while_arriving": steady_s,
        "input_tokens_per_s": float(requests.input_tokens.sum()) / duration,
        "requests_per_s": len(out) / duration,
        "ttft_s": percentiles(ttft, scratch=True),
        "tpot_s": percentiles(tpot, scratch=True),
        "e2e_s": percentiles(e2e, scratch=True),
        "e2e_last_arrivals_s": last_arrivals_s,
        "kv_transfer_s": percentiles(transfer) if deployment["disaggregated"] else None,
        "slo": {"ttft_s": ttft_slo_s, "tpot_s": tpot_slo_s},
        # no SLO given (none asked, none in the workload): nothing to attain, null rather than a vacuous 1.0
        "slo_attainment": float(ok.mean()) if ttft_slo_s is not None or tpot_slo_s is not None else None,
        "ttft_over_slo_count": sum(ttft_by) if ttft_by is not None else None,
        "tpot_over_slo_count": sum(tpot_by) if tpot_by is not None else None,
        "ttft_over_slo_by_batch_count": ttft_by,
        "tpot_over_slo_by_batch_count": tpot_by,
        "mean_input_tokens": float(requests.input_tokens.mean()),
        "mean_output_tokens": float(out.mean()),
        "busy_fraction": busy_gpu_s / (gpus * duration) if duration > 0 else 0.0,
        "power_w_per_gpu": energy / (gpus * duration) if duration > 0 else 0.0,
        # the draw at the steady served rate: always-on watts + dynamic J/token x tokens/s (= joules_per_token x
        # rate / gpus); offline the whole run's (the same sums)
        "steady_power_w_per_gpu": idle_w + host_w + steady_dyn_j * rate / gpus,
        "energy_j": energy,
        "offered_output_tokens_per_s": offered,
        "steady_output_tokens_per_s": served,
        "joules_per_token": gpus * (idle_w + host_w) / rate + steady_dyn_j,
        "device_joules_per_token": gpus * idle_w / rate + steady_dyn_j,
        "assumed_host_w_per_gpu": assumed_share_w(system.node)[0],  # of host_w, labelled ASSUMPTION (hM70)
        "usd_per_hour_per_gpu": usd_per_hour,
        "usd_per_million_tokens": usd / rate * 1e6 if usd is not None else None,
        **({} if usd is not None else {"usd_per_million_tokens_reason": unpriced_reason(accelerator.name)}),
        "iterations": sum(p.iterations for p in pools),
        "assumptions": {"power": power_assumption(accelerator), "host_share": host_share_line(accelerator, system),
                        "per_token_basis": basis,
                        "scheduler": _scheduler_line(dep)},
    }


def steady_power_note(result: dict[str, Any], accelerator: Accelerator, system: System) -> list[str]:
    """The note of a run (its `summarize` dict) whose steady draw per accelerator is above the most its power model
    lets it draw (TDP + host share: an iteration draws at most TDP, `POWER_ASSUMPTION`). Since hA58 an open-loop run
    takes its dynamic draw over the later half of its arrival window (`serving.window_marks`), at most TDP per
    accelerator by construction, and since hO58 / hO59 a closed loop over its own (`window_marks.ClosedCuts`), so
    this fires only on a run without window marks (a closed loop without a round trip, no client sending twice):
    there `steady_power_w_per_gpu` (and joules_per_token) scale the whole run's dynamic
    joules per token by the steady served rate, and the ramp from an empty engine and the drain after the last
    arrival run small batches (hO57: Llama 3 70B fp8 chat at 2,000 requests/s on 632 H100, 124,265 requests: 1.13
    J/token dynamic, 1,341 W steady over a 1,275 W ceiling, before the window; 1,157 W with it). None where it is
    under, or nothing ran."""
    steady = result.get("steady_power_w_per_gpu")
    idle_w, host_w = power_terms(accelerator, system)
    ceiling = accelerator.tdp_w + host_w
    if steady is None or result.get("steady_output_tokens_per_s") is None or steady <= ceiling:
        return []
    return [f"steady_power_w_per_gpu {steady:,.0f} W is above the {ceiling:,.0f} W an accelerator and its host share "
            f"draw at most (TDP {accelerator.tdp_w:,.0f} W + {host_w:,.4g} W): without window marks (a closed loop "
            "without a round trip, or no client sending twice) it and joules_per_token scale the "
            "whole run's dynamic joules per token by the steady served rate, which reads high (the run's ramp from "
            "an empty engine and drain after its last arrival run small batches, more joules per token than the "
            "steady state): more requests shrink it"]


def assumed_host_note(result: dict[str, Any], system: System, word: str | None = None) -> list[str]:
    """The line of a run whose joules_per_token counts an ASSUMED host share (`cluster.host_share.assumed_share_note`:
    MTIA 400's 300 W of host and 50 W of switches a chip, a GB300 NVL72 tray's 450 W a GPU), "per" the part's `word`
    (`Accelerator.device_word`: "per TPU", as plan and fleet-mix say it, hK71; the system's own part's where not
    given, hV71); [] where none is, or nothing ran."""
    said = word or system_device_word(system)
    note = assumed_share_note(system.node, said) if result.get("joules_per_token") else None
    return [f"joules_per_token: {note}"] if note else []


def system_device_word(system: System) -> str:
    """What one of `system`'s devices is called (`Accelerator.device_word`), so the note reads as `facility`'s and
    `plan`'s do ("per TPU"; hV71: serve and serve-plan said "per accelerator" on a TPU); "accelerator" where its
    accelerator does not load."""
    try:
        return load_accelerator(system.accelerator).device_word
    except InputError:
        return "accelerator"


def per_watt_note(result: dict[str, Any], accelerator: Accelerator, system: System, stack_ref: str) -> list[str]:
    """What a per-joule answer with no measured serving stack behind it rests on (hM69: "is MTIA better per watt
    than a GPU for this LLM?"): on a stack with an `assumption` (pytorch-mtia), or on a part whose default stack
    has one (a Meta part under --stack vllm-0.x too), the chip's and the platform's watts in joules_per_token and
    device_joules_per_token, and the launch time and issue the decode was priced at; [] elsewhere, or nothing ran."""
    joules, chip = result.get("joules_per_token"), result.get("device_joules_per_token")
    stack = load_stack(load_engine(stack_ref).ref)
    if not joules or chip is None or not (assumed_profile(stack) or assumed_default(accelerator)):
        return []
    idle_w, host_w = power_terms(accelerator, system)
    launch_us = accelerator.efficiency.kernel_overhead_s * 1e6
    cap = graph_batch_cap(stack, int(result["deployment"].get("tp", 1)))
    issue = (f"the forward issued whole up to {cap:,} tokens an iteration (stack {stack.name}'s `cuda_graphs`), "
             "eager above" if cap else f"every kernel dispatched by the host (stack {stack.name} runs eager)")
    return [f"per watt on {accelerator.name}: joules_per_token {joules:.3g} J is the platform's, the chip (TDP "
            f"{accelerator.tdp_w:,.0f} W, idle {idle_w:,.0f} W) with {host_w:,.4g} W a chip of host and scale-up "
            "switches (assumptions.host_share gives their source); "
            f"device_joules_per_token {chip:.3g} J is the chip's alone ({chip / joules:.0%}): compare it with another "
            "part's device_joules_per_token, joules_per_token with its joules_per_token (its server's host "
            f"share). Launches priced at {launch_us:.3g} us a kernel (the part's kernel_overhead_s, its file's "
            f"efficiency source says on what; the NVIDIA files' 4 us), {issue}: no LLM serving on this part is "
            "measured"]
