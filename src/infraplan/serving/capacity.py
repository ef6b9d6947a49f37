"""Capacity search: the fewest accelerators, and the deployment, that serve a QPS target within SLOs.

Candidates: weight dtype (every one the accelerator and the stack's engine run among those asked; bf16 and the
weight-only int4 and mxfp4 on any, `serving.deployment.format_gap`; SGLang's mxfp8 MoE at EP 1 only), TP (within the
scale-up domain dividing the heads: each vLLM / SGLang builds, else powers of two: `tp_split.tp_degrees`; PP 1/2/4/8,
each deeper level searched below the best whole run met so far: step 3), batch cap, and colocated or disaggregated
prefill/decode pools. MoE models also get wide-EP layouts (`capacity_space.wide_ep_degrees`): TP 1, attention data
parallelism over d GPUs of one scale-up domain and the experts spread over the same d (EP = d), for the powers of two d
whose expert shard leaves room for a KV cache, as DeepSeek-V3 serves (DeepSeek-AI, "DeepSeek-V3 Technical Report",
arXiv:2412.19437, sec. 3.4: DP attention with EP across the serving GPUs) and SGLang's `--enable-dp-attention`
(`serving.llm_iteration`, "Wide expert parallelism"), and over the same d ranks each expert split over m of them (MoE
TP m, EP d / m) where the stack's engine builds it (`capacity_layouts`, hY51). TP layouts win ties (wide EP is chosen
only where it saves accelerators, and MoE TP only where it saves them over wide EP), and both are tried at PP 1 only;
where d does not divide the experts the answer says so in `serve`'s note, and a d the stack's engine cannot build is
rejected with its reason (`serving.expert_slots`: SGLang's Mixtral). Each attention-DP rank is an engine of the
replica, whose KV capacity is its own rank's (`kv_capacity(ep=...)`, as `serve` sizes it), and a disaggregated
candidate's prefill pool runs without the colocated lock-step stall (`disaggregated.prefill_pool_cost`, as `serve
--prefill-gpus` prices it); an MoE model's disaggregated options also pair the decode layout with a prefill pool of
another layout of the same accelerators a replica (TP g, or attention DP g x EP g: `capacity_layouts`, as `serve
--prefill-tp` builds it, hY53; one layout in both pools wins ties). For each candidate:

1. an offline run of one replica gives its peak output rate, hence a lower bound on colocated replicas
   (`rate * mean output tokens / peak`); colocated options whose bound already exceeds the best answer are
   pruned (not disaggregated ones: a decode pool without prefills can beat the colocated peak);
2. replicas are found by doubling from the bound, then bisection: one replica is simulated on its round-robin
   share of the workload's arrivals, as the whole run routes them (`replica_share`), and meets the target when, in
   steady state, the p-th percentile of TTFT and of TPOT are within their SLOs (MLPerf Server uses p99 for
   both) and its backlog does not grow (`capacity_candidate`: a probe sends at least STEADY_SPANS x the
   requests a replica holds at once and is judged without its warm-up and drain, its TTFT with the drain; a decode
   pool's or colocated replica's decode utilisation, bounded over the whole run's lengths, is at most 1:
   `decode_utilisation`, hB49, hQ51);
   a disaggregated candidate sizes its prefill pool on TTFT (prefill-only engines) and its decode pool on
   TPOT (decode-only engines fed the prompts' KV caches) separately;
3. the winner (fewest GPUs held: whole scale-up domains where a TP group leaves some idle, `replica_packing`;
   ties: `replica_search.option_rank`) is re-simulated as a whole deployment at
   the full rate and reported with the serve metrics; a whole run that misses the SLO passes to the level's next
   option, up to FULL_RUN_TRIES whole runs a level; every PP level is searched, each below the best whole run
   met so far, so the answer is the fewest accelerators over all levels, ties to less PP, and a larger
   `--max-gpus` never gives a larger answer (`replica_search.whole_runs`); a miss is answered (the first option,
   `meets_slo_full_run` false) only when no level's whole runs meet. A whole run spans 8 relaxation times of its
   slowest pool (a pool needing over 400,000 requests misses) and is judged past its warm-up too (`capacity_horizon`);
   each percentile must be shown within its SLO at 0.99 confidence, a run too short to show it or a miss rerun 4x
   longer (`capacity_confidence`, hQ51), and a run shown within is confirmed on 2 more seeds' runs of as many
   requests, the three judged together (`capacity_confidence.pooled_verdict`, hQ63: one calm draw of the
   arrivals passed an answer that other seeds missed).

The answer (the chosen deployment with `serve`'s metrics, bands, notes and rerun line, or none and why) is
`capacity_answer`'s; the inputs refused before any search, `capacity_inputs`' (moved out of here, hL76).

Work saved without changing any answer, and the one shortcut that rests on a premise: `replica_search`'s
module docstring (memoised probes, moot searches, likeliest-smallest order, a bounded level's replica limit, the
overload skip).

The serving stack (`stack`, as `serve --stack`: a profile name, a versioned engine name or a YAML;
`serving.engines`) is given, not searched: its KV-memory convention sizes every candidate's cache, its
scheduler runs the probes and its token budget is the chunked-prefill budget unless one is given; a batch cap is
searched as asked, as `serve --max-batch` runs it, TensorRT-LLM's max_num_tokens capping the sequences an
iteration runs (`raised_budget.run_deployment`, said in the answer's notes: hS77; until then a cap above the stack's
offline_max_batch was searched as that, silently: `--max-batch 16384` as 2,048 on trtllm-0.x, `STACK_BATCH_LIMIT`).
The KV-cache dtype and MTP drafts: given, or (`try_speculative`) MTP searched beside plain decoding where the model
and the stack's engine run it (`serving.capacity_space`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.cost import usd_per_accelerator_hour_if_priced
from infraplan.serving.capacity_answer import met_answer, unmet_answer
from infraplan.serving.capacity_candidate import Candidate, candidate_for, request_stream
from infraplan.serving.capacity_candidate import clear_caches as clear_caches  # the search's memo, re-exported
from infraplan.serving.capacity_confidence import confirming_seeds, longer_run
from infraplan.serving.capacity_horizon import (
    HORIZON_MAX_REQUESTS,
    NEAR_MISS_RATIO,
    UNSETTLED,
    judged_run,
    option_laws,
    option_run,
    option_settling,
    option_time_constants,
    unsettled,
)
from infraplan.serving.capacity_inputs import DTYPES as DTYPES  # (re-exported: serve's weight dtypes)
from infraplan.serving.capacity_inputs import SLO_PERCENTILES as SLO_PERCENTILES  # (re-exported: web, tests)
from infraplan.serving.capacity_inputs import checked_dtypes, checked_inputs
from infraplan.serving.capacity_layouts import layout_text, level_layouts, own_pair, own_prefill, weight_kinds
from infraplan.serving.capacity_space import draft_choices, drafts_text, kv_for, tie_order
from infraplan.serving.deployment import build_refusal
from infraplan.serving.engines import ServingEngine, load_engine, versioned_name_note
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.loop_stepping import kept_cost_tables
from infraplan.serving.miss_stop import SHOWN_MISSED, ShownMissed, least_over
from infraplan.serving.raised_budget import run_deployment
from infraplan.serving.replica_packing import replicas_within
from infraplan.serving.replica_search import (
    OVERLOAD_SKIP,
    SearchJob,
    SearchProgress,
    Stages,
    fewest_replicas,
    grown,
    moot_beyond,
    overloaded_replicas,
    run_level,
    ttft_miss_pools,
    whole_runs,
)
from infraplan.serving.replica_share import ROUTER, replica_requests
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_sim import fit_check, simulate_deployment, simulate_disaggregated
from infraplan.serving.stack_placement import serving_stack_for
from infraplan.serving.steady_state import STEADY_SPANS
from infraplan.serving.tp_split import tp_degrees
from infraplan.serving.workloads import Requests, clip_to_context, require_context

BATCH_CAPS = (64, 256)
# True: a batch cap above the stack's offline_max_batch (its default batch for --offline) searched as that default,
# as before hS77; False: as asked, as `serve --max-batch` runs it (an engine's max batch is a launch flag)
STACK_BATCH_LIMIT = False
FULL_RUN_REQUESTS_PER_REPLICA = 300
FULL_RUN_MAX_REQUESTS = 100_000  # the count's cap; `capacity_horizon` lengthens a run whose pools settle slowly


@kept_cost_tables()  # each candidate's engine tables serve all its probes (`serving.loop_stepping`)
def search_capacity(model: str, system: str, rate: float, *, workload: str | None = None,
                    input_len: int | None = None, output_len: int | None = None, ttft_slo: float | None = None,
                    tpot_slo: float | None = None, dtypes: tuple[str, ...] = ("bf16", "fp8"),
                    batch_caps: tuple[int, ...] = BATCH_CAPS, token_budget: int | None = None,
                    percentile: float = 99.0, max_gpus: int | None = None, requests: int = 1500,
                    disaggregation: bool = True, seed: int = 0, stack: str | ServingEngine | None = None,
                    kv_dtype: str | None = None, speculative_tokens: int = 0, acceptance: float | None = None,
                    try_speculative: bool = False, progress: Stages | None = None,
                    answer_only: bool = False) -> ServingPlanResult:
    """The fewest accelerators serving `rate` requests/s of the workload within the SLOs (see module doc).

    `stack`: the serving stack profile (None: the default, `serving.engines`); `token_budget` None: the stack's on
    the part (`ServingEngine.budget_on`).
    `kv_dtype` (None: each weight dtype's default, as `serve`), `speculative_tokens` with `acceptance` (as given) or
    `try_speculative` (plain and MTP searched): `serving.capacity_space`. `progress`: `SearchProgress` (hJ58).
    `answer_only` (`plan`, `fleet-mix`): a whole run read for its verdict alone (`replica_search.whole_runs`'s
    `verdict_only`) whose pool cannot settle is a miss unsimulated (`judged_run` misses it whatever it reads); the
    answer is the same, only its `rejected` lines say so instead of the run's percentiles (hS70).
    """
    spec, ttft, tpot, slo_notes = checked_inputs(model, rate, workload, input_len, output_len, ttft_slo, tpot_slo,
                                                 percentile, max_gpus, requests)  # (`capacity_inputs`)
    engine = load_engine(stack)  # an unknown or training stack refused before the model and system are read
    versioned = versioned_name_note(stack if isinstance(stack, str) else None)
    shape = load_model(model)
    if spec is None and input_len is not None and output_len is not None:  # as `serve`: fixed lengths are not clipped
        require_context(input_len + output_len, shape.name, shape.max_seq_len)
    cluster = Cluster.resolve(system, purpose="LLM serving")  # as `serve`, `plan` and `fleet-mix`
    sys_spec, acc, fabric = cluster.system, cluster.accelerator, cluster.fabric
    if max_gpus is not None and not cluster.generic and not answer_only:  # past a named system's size: its serve
        cluster.check_gpus(max_gpus, "--max-gpus")  # lines were refused (hW75); plan / fleet-mix size many of it
    # the stack: the asked one where it runs on the part, else the part's vendor's (`serving.engines`), as `serve`
    engine, stack_notes = serving_stack_for(stack, acc) if not isinstance(stack, ServingEngine) else (engine, [])
    versioned = [*stack_notes, *versioned, *slo_notes]
    budget = engine.budget_on(acc.memory_bytes) if token_budget is None else token_budget  # the part's (hJ71)
    caps = sorted({min(c, engine.offline_max_batch) if STACK_BATCH_LIMIT else c for c in batch_caps})
    limit = max_gpus or sys_spec.total_accelerators
    checked_dtypes(dtypes)  # known, each once (`capacity_inputs`)
    kinds, unsupported = weight_kinds(acc, engine, dtypes)  # one line where none runs (`capacity_layouts`)
    kinds = tie_order(shape, kinds)  # ties: the checkpoint's format, then the wider (`capacity_space`, hL76)
    drafts = draft_choices(shape, acc, engine, kv_dtype, speculative_tokens, acceptance, try_speculative)
    slo = (ttft, math.inf if tpot is None else tpot)  # judged: no TPOT SLO binds none (one-token requests masked)
    # the KV heads / FFN split vLLM, SGLang run (hW72), at every TP they build (hG73); other engines: powers of two
    tps = tp_degrees(shape, engine.engine, sys_spec.node.scale_up_domain, (1, 2, 4, 8, 16, 32, 64))[0]

    source = (repr(spec), input_len, output_len, shape.max_seq_len)

    def clipped(rate_r: float | None, seed_r: int, n: int) -> tuple[Requests, int]:
        """The seeded requests, a preset's long tail truncated to the context as `serve` truncates it
        (`workloads.clip_to_context`), and how many were truncated."""
        return clip_to_context(build_requests(spec, None, input_len, output_len, n, rate_r, seed_r),
                               shape.max_seq_len)

    def keyed_probe(rate_r: float | None, seed_r: int, n: int = requests) -> tuple[Requests, str]:
        """The seeded request stream and its content fingerprint (built once per process)."""
        return request_stream((*source, rate_r, seed_r, n), lambda: clipped(rate_r, seed_r, n)[0])

    sample, sample_key = keyed_probe(None, seed)

    def meets_at(probed: Candidate, part: str, r: int) -> bool:
        """The probe: one replica of r of `probed` in pool `part`, on its share (ROUTER), meets the SLO (memoised); its
        decode utilisation taken over the whole run's most lengths (`capacity_decode.decode_utilisation`)."""
        n, e = probed.probe_requests(requests), probed.dep.engines_per_replica
        return probed.meets(*request_stream((*source, ROUTER, rate, seed, n, r, e), lambda: replica_requests(
            spec, input_len, output_len, n, rate, seed, r, e, shape.max_seq_len)), part, slo, percentile,
            keyed_probe(None, seed, FULL_RUN_MAX_REQUESTS) if part != "prefill" else None)

    def run(job: SearchJob, among: list[dict[str, Any]]) -> list[int] | None:
        """The job's replicas per pool; None beyond the limit or when moot among the options `among` (`moot_beyond`)."""
        counts: list[int | None] = []
        for part in job.mode:
            pool = job.prefill if part == "prefill" and job.prefill is not None else job.cand  # `capacity_layouts`

            def ok(r: int, part: str = part, probed: Candidate = pool) -> bool:
                return meets_at(probed, part, r)

            # replicas already fixed in this option (the prefill pool, for the decode search),
            # and the least the rest of it takes (one decode replica, for the prefill search)
            moot = moot_beyond(among, sum(c for c in counts if c is not None), 1 if part == "prefill" else 0,
                         job.gpus, job.high)
            start = 1 if part == "prefill" else (job.low if part == "mixed" else 1)
            over = 0.0 if part != "prefill" or job.low < OVERLOAD_SKIP else overloaded_replicas(
                pool.offline_s(sample, sample_key, part), sample, rate, slo[0], percentile)
            # below a better whole run (`whole_runs`), the most replicas this pool can take and still beat it
            top = job.high - sum(c for c in counts if c is not None) - (part == "prefill") if bounded else 0
            counts.append(fewest_replicas(ok, start, job.high, moot, over, top))
            if counts[-1] is None:
                return None  # the option is dropped: the other pool's search cannot matter
        found = [c for c in counts if c is not None]
        return None if sum(found) > job.high else found

    tried: list[Candidate] = []  # every layout priced (its TPOT floor says why none meets a TPOT SLO, `best_tpot_s`)
    rejected: list[str] = unsupported  # a dtype the accelerator lacks is said, not dropped silently
    evaluated = 0
    domain, least = sys_spec.node.scale_up_domain, 0  # least: the fewest accelerators any layout's offline peak allows
    levels = iter((1, 2, 4, 8))
    bounded = False  # the level now searched is bounded by a better whole run (`whole_runs`)
    track = SearchProgress(progress)  # each level's searches and whole runs, told (nothing read back)

    def level(below: int | None) -> list[dict[str, Any]] | None:
        """The options of the next PP level of fewer than `below` accelerators (None: within the limit; `run_level`;
        None: no level left). The bound is the level's replica limit, so a layout that cannot beat it costs no
        probe, and a search climbing to it stops (`moot_beyond`)."""
        nonlocal evaluated, least, bounded
        pp = track.next_level(next(levels, 0))
        if not pp:
            return None
        cap_gpus = limit if below is None else min(limit, below - 1)
        bounded = below is not None
        jobs: list[SearchJob] = []
        for dtype in kinds:
            # the TP layouts, then (MoE, PP 1) the wide-EP and MoE-TP ones (`capacity_layouts`; KV as `Candidate`'s)
            kv = kv_for(shape, dtype, kv_dtype, engine.engine, acc.catalog_name)
            layouts = level_layouts(shape, acc, domain, dtype, kv, budget, caps, tps, pp, engine.ref, engine.engine,
                                    sample, max(k for k, _ in drafts))
            # (TP 1 wherever attention DP > 1: EP = attention DP / MoE TP); plain decoding, then MTP
            for (tp, adp, mtp, cap_b), (k, r) in itertools.product(layouts, drafts):
                run_b, run_budget = run_deployment(engine, token_budget, acc.memory_bytes, adp, cap_b, k)  # as serve
                dep = Deployment(tp=tp, pp=pp, ep=adp // mtp, attention_dp=adp, moe_tp=mtp, dtype=dtype,
                                 kv_dtype=kv, max_batch=run_b,  # (TensorRT-LLM's max_num_tokens caps it, hV76)
                                 token_budget=run_budget,  # (SGLang's one rank's: // DP, hG72)
                                 engine=engine.engine, stack=engine.ref, speculative_tokens=k, acceptance=r)
                # the most replicas within the limit (below a better whole run: that beat it), on the domains they
                # hold (`replica_packing`: whole ones where a TP group leaves some idle)
                most = replicas_within(cap_gpus, dep.gpus_per_replica, tp * adp, domain)
                if most < 1 or shape.num_layers < pp:
                    continue
                if refused := build_refusal(shape, dep):  # the engine cannot build it
                    moe = f" MoE-TP{mtp}" if mtp > 1 else ""
                    rejected.append(f"{dtype} TP{tp} PP{pp} DP-attention{adp} EP{dep.ep}{moe} batch {cap_b}"
                                    f"{drafts_text(k)}: {refused}")
                    continue
                cand = candidate_for(shape, acc, fabric, dep, sample)
                why = fit_check(shape, cand.cap, dep, sample, acc)
                if why:
                    rejected.append(f"{dtype} {layout_text(tp, pp, adp, dep.ep, mtp)} batch {cap_b}{drafts_text(k)}: "
                                    f"{why}")
                    continue
                evaluated += 1
                tried.append(cand)
                gpr = dep.gpus_per_replica
                # below a better whole run, a layout whose pools all miss at `most` has no option that can (monotone
                # in replicas): no offline peak, no search
                own = own_prefill(shape, acc, fabric, dep, cand, sample, token_budget) if disaggregation else []
                if bounded and not (meets_at(cand, "mixed", most) or (disaggregation and most >= 2 and any(meets_at(
                        pre, "prefill", most - 1) for pre in [cand, *(c for _, c in own)]) and meets_at(
                        cand, "decode", most - 1))):
                    continue
                # the offline peak from at least as many requests as the probes send (STEADY_SPANS x what a replica
                # holds): fewer leave the batch part-empty, understate the peak and overstate the bound
                full, full_key = keyed_probe(None, seed, cand.probe_requests(requests))
                peak_rate = float(full.output_tokens.sum() / cand.offline_s(full, full_key))
                low = max(1, math.ceil(rate * float(full.output_tokens.mean()) / peak_rate))
                high = most
                option = {"dtype": dtype, "tp": tp, "pp": pp, "ep": dep.ep, "attention_dp": adp, "moe_tp": mtp,
                          "max_batch": cap_b, "speculative_tokens": k}
                jobs.append(SearchJob(len(jobs), ("mixed",), cand, low, high, option, domain=domain))
                least = min(least or low * gpr, low * gpr)
                if disaggregation and high >= 2:
                    jobs.append(SearchJob(len(jobs), ("prefill", "decode"), cand, low, high, option, domain=domain))
                    jobs += [SearchJob(len(jobs) + i, ("prefill", "decode"), cand, low, high, {**option, **fields},
                                       pre, domain) for i, (fields, pre) in enumerate(own)]
        return run_level(jobs, track.counted(run, len(jobs)), cap_gpus)

    key = SLO_PERCENTILES[percentile]

    def full_run(chosen: dict[str, Any], read: bool = True) -> tuple[tuple[Any, ...], bool]:
        """The whole deployment at the full rate, long enough for its pools to settle and judged past its warm-up
        too (`capacity_horizon`, hS49), its percentiles at a stated confidence (hQ51): (its serve metrics, request
        count, how many of its requests were truncated to the context, their mean prompt + output tokens,
        `judged_run`'s ratios, the replicas its unsettled pools need, `option_settling`, and why), whether it meets.
        `read` False (`answer_only`, read for its verdict alone): a pool that cannot settle is a miss, not run."""
        track.whole_run()
        k = chosen["speculative_tokens"]
        run_b, run_budget = run_deployment(engine, token_budget, acc.memory_bytes, chosen["attention_dp"],
                                           chosen["max_batch"], k)  # as `serve` runs the cap (hV76)
        dep = Deployment(tp=chosen["tp"], pp=chosen["pp"], ep=chosen["ep"], attention_dp=chosen["attention_dp"],
                         moe_tp=chosen["moe_tp"], dtype=chosen["dtype"],
                         kv_dtype=kv_for(shape, chosen["dtype"], kv_dtype, engine.engine, acc.catalog_name),
                         max_batch=run_b, token_budget=run_budget,
                         engine=engine.engine, stack=engine.ref, speculative_tokens=k, acceptance=dict(drafts)[k])
        pair = own_pair(shape, acc, replace(dep, replicas=chosen["replicas"] - chosen["prefill_replicas"]), chosen,
                        token_budget)  # the prefill pool's budget: its own ranks' default where none is given
        laws = option_laws(shape, acc, fabric, dep, chosen, keyed_probe(rate, seed)[0].arrival_s, (sample, sample_key),
                           keyed_probe(None, seed, FULL_RUN_MAX_REQUESTS)[0], pair.prefill if pair else None)
        taus = option_time_constants(rate, laws)
        sides = (unsettled(rate, taus[0]), unsettled(rate, taus[1]))  # their queues (a decode fill settles, hF52)
        if not read and any(sides):  # `judged_run`'s miss whatever the run reads: its metrics are not read
            return (None, 0, 0, 0.0, NEAR_MISS_RATIO, NEAR_MISS_RATIO, (0, 0), UNSETTLED), False
        dep = replace(dep, replicas=chosen["replicas"])
        held = dep.engines_per_replica * dep.max_batch * chosen["replicas"]  # in steady state, as the probes ran
        n_full, _, warm_s = option_run(rate, min(max(requests, FULL_RUN_REQUESTS_PER_REPLICA * chosen["replicas"],
                                                     STEADY_SPANS * held), FULL_RUN_MAX_REQUESTS), taus)
        made = [0, 0]  # the requests last built, how many of them were truncated to the context
        last: list[Requests] = []  # and they (`read` False: their run stops once shown to miss, `miss_stop`)

        def built(n: int) -> Requests:
            reqs, made[1] = clipped(rate, seed, n)  # built once, not kept
            made[0] = n
            last[:] = [reqs]
            return reqs

        def replicated(n: int, i: int) -> Requests:  # the i-th confirming seed's run of n (hQ63)
            return clipped(rate, confirming_seeds(seed)[i], n)[0]

        def stop(r: Requests) -> tuple[int, int] | None:  # `judged_run` breaks on a MISSED first or longer run
            return None if read or r is not last[0] else least_over(r, percentile, longer_run(
                len(r), HORIZON_MAX_REQUESTS) is None)

        # the deployment's own cluster, as `serve --gpus N` sizes it (an accelerator preset: N accelerators on the
        # generic fabric, priced at that size; it was one generic node's $/GPU-h: $1.237 against serve's $1.161 at
        # 64 H100, hF2, session 39)
        sized = cluster.for_gpus(chosen["replicas"] * dep.gpus_per_replica)  # its replicas'; held: `gpus`
        # a pair of layouts run as `serve --prefill-tp` runs it; charged as `train --tokens` charges a job (hI53)
        price = usd_per_accelerator_hour_if_priced(sized, gpus=chosen["gpus"])
        # (`wait_split`, disaggregated runs: where its TTFT misses wait, the pool a retry grows, `ttft_miss_pools`;
        # a colocated run has one pool to grow)
        split = chosen["prefill_replicas"] > 0
        try:
            result, ttft_ratio, tpot_ratio, why, reqs = judged_run(lambda r: simulate_disaggregated(
                shape, sized, pair, r, ttft_slo_s=ttft, tpot_slo_s=tpot, usd_per_hour=price, wait_split=True,
                stop_over=stop(r), held_gpus=chosen["gpus"]) if pair else simulate_deployment(
                shape, sized, dep, r, prefill_replicas=chosen["prefill_replicas"], ttft_slo_s=ttft, tpot_slo_s=tpot,
                usd_per_hour=price, wait_split=split, stop_over=stop(r), held_gpus=chosen["gpus"]), built(n_full), key,
                slo, percentile, sides, warm_s, built, replicated, confirming_seeds(seed))
        except ShownMissed:  # its count over an SLO showed the miss: the rest of the run not simulated
            return (None, made[0], made[1], 0.0, NEAR_MISS_RATIO, NEAR_MISS_RATIO, (0, 0), SHOWN_MISSED), False
        n_full, n_clipped = made  # a run rerun longer to decide its percentile (hQ51)
        context = float((reqs.input_tokens + reqs.output_tokens).mean())  # the band's length, as `serve`'s (hU59)
        least = option_settling(rate, laws, sides, limit // dep.gpus_per_replica)  # a grown retry's size
        return (result, n_full, n_clipped, context, ttft_ratio, tpot_ratio, least, why), max(ttft_ratio,
                                                                                             tpot_ratio) <= 1.0

    options, runs = whole_runs(level, full_run, lambda o, run: grown(o, run[4], run[5], limit, run[6],
                                                                       ttft_miss_pools(run[0]), domain),  # retried
                               **({"verdict_only": lambda o: full_run(o, read=False)} if answer_only else {}))
    if not runs:  # no option at any PP level: why (`capacity_answer`)
        return unmet_answer(shape, cluster, engine, system=system, rate=rate, slo=slo, percentile=percentile,
                            limit=limit, max_gpus=max_gpus, tps=tps, tried=tried, sample=sample, rejected=rejected,
                            evaluated=evaluated, least=least, versioned=versioned,
                            clipped=clipped(None, seed, requests)[1])
    return met_answer(shape, cluster, engine, model=model, system=system, workload=workload, input_len=input_len,
                      output_len=output_len, rate=rate, slo=slo, percentile=percentile, key=key, seed=seed,
                      stack=stack, drafts=drafts, options=options, runs=runs, evaluated=evaluated,
                      rejected=rejected, versioned=versioned, token_budget=token_budget)
