"""A serve run's inputs before the simulation (`serving_api.estimate_serving` reads them): the request count (a closed
loop's `CLOSED_LOOP_REQUESTS_PER_CLIENT` per client, else `DEFAULT_REQUESTS`) and the request stream (`build_requests`:
a trace, a workload preset or fixed lengths), `--tp auto` (`auto_tp`: the smallest TP leaving >= 25 % of the usable
memory to the KV cache, of those the fewest held on the scale-up domains), the checks of the load options
(`check_inputs`), and the notes on them: a closed loop given few requests, an offline burst that fills few of its
batches, TP spanning scale-up domains, a TP all-reduce run by NCCL inside one where the stack's custom kernel does not
run (`nccl_inside_note`), a closed loop's latencies against Little's law; and two on `--dtype`: a model config that
stores its weights in another format (`checkpoint_mismatch`, `ops.precision.weight_scope`'s rule) and MXFP8 GEMMs at
fp8's measured fraction of peak (`gemm_fraction_note`, `ops.precision.RECIPES`; both moved from `ops.precision`, hE62).
Split out of `serving.serving_api` (session 58).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from infraplan import bounds
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator, System
from infraplan.catalog.serving_loader import WorkloadSpec
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.limits import MAX_REQUESTS
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.network.collectives import bottleneck_tier, collective_time
from infraplan.ops.precision import RECIPES, scope_words
from infraplan.serving.deployment import Deployment
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.engines import ServingEngine, load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.replica_packing import held_gpus
from infraplan.serving.tp_split import ENGINE_NAMES, tp_degrees
from infraplan.serving.workloads import Requests, fixed_requests, read_trace, workload_requests
from infraplan.units import counted

DEFAULT_REQUESTS = 2000
# A closed loop of N clients without --requests: 10 requests per client, the count the validated closed-loop rows
# run (validation.serving_hopper REQUESTS_PER_CLIENT: AIConfigurator's harness, --request-count 10 x concurrency),
# and never fewer than DEFAULT_REQUESTS. 2,000 for 4,096 clients was one part-filled wave (hU53): 1,999 clients
# read 42 % less output throughput than 2,000 on DeepSeek-R1 wide EP, each run its start-up wave and drain alone.
CLOSED_LOOP_REQUESTS_PER_CLIENT = 10


def closed_loop_requests(requests: int | None, concurrency: int | None, trace: str | None) -> int | None:
    """The requests a run simulates where none are given: a closed loop's CLOSED_LOOP_REQUESTS_PER_CLIENT per
    client (at least DEFAULT_REQUESTS, at most limits.MAX_REQUESTS); else `requests` as given (None: the default)."""
    if requests is not None or concurrency is None or trace is not None:
        return requests
    return min(max(DEFAULT_REQUESTS, CLOSED_LOOP_REQUESTS_PER_CLIENT * concurrency), MAX_REQUESTS)


def few_requests_note(requests: int, clients: int, capped: bool = False) -> str:
    """Why a closed loop given few requests (fewer than CLOSED_LOOP_REQUESTS_PER_CLIENT per client) reads off its
    clients' steady state: its start-up wave and drain weigh in, and fewer requests than clients never fill it.
    `capped`: none were given, the caller's cap (`estimate_serving`'s `requests_cap`, the web's) cut the default."""
    held = (f"at most {requests:,} of the {clients:,} clients ever hold a request" if requests < clients else
            f"{requests / clients:.1f} requests per client")
    full = f"{CLOSED_LOOP_REQUESTS_PER_CLIENT * clients:,}"
    given = f"{requests:,} requests (the most a run here simulates)" if capped else f"--requests {requests:,}"
    advice = (f"the CLI runs the default {full}" if capped else f"leave --requests out or give {full}")
    return (f"closed loop: {given} for {clients:,} clients: {held}, so the start-up wave and the drain weigh in the "
            "answer, not only the clients' steady state (Little's law: requests/s x mean end-to-end latency / "
            f"clients off 1); {advice} (10 per client, the validated rows' count)")


OFFLINE_FILL_SHARE = 0.5  # an offline burst holding under half of what each batch could: said (hW59)


def offline_fill_note(requests: int, given: str, mean_tokens: float, replicas: int, attention_dp: int,
                      max_batch: int, kv_tokens_per_replica: float) -> str | None:
    """Why an offline burst spread over many batches reads below the deployment's full offline rate: every request
    is present at t = 0, so each engine batch (a replica's, or each attention-DP rank's) holds its share of them, and
    a share under OFFLINE_FILL_SHARE of what the batch could hold (the max batch, or the KV cache's room at the mean
    request's length) decodes part-filled. The default 2,000 requests fill one replica, not 72 attention-DP ranks
    (DeepSeek-R1 nvfp4 on one GB200 NVL72 rack, 1,000 / 1,000 tokens, trtllm-0.x: 28 a rank, 2,036 tokens/s per GPU
    at TPOT p50 12.8 ms; 14,400 requests 5,367 at 31 ms; 147,456, every batch full, 7,515 at 205 ms). None where
    each batch holds at least that share, and where --requests N was given to one batch (a batch of N, as asked); a
    pipelined replica's in-flight batches are not counted (callers at PP 1). `given`: where the count came from,
    "default", "requests" (--requests) or "trace" (its rows)."""
    batches = replicas * attention_dp
    room = int(min(max_batch, kv_tokens_per_replica / attention_dp // max(mean_tokens, 1.0)))
    share = requests / batches
    if room < 1 or share >= OFFLINE_FILL_SHARE * room or (given != "default" and batches == 1):  # N asked, one batch
        return None
    count = {"requests": f"--requests {requests:,}", "trace": f"the trace's {requests:,} requests"}.get(
        given, f"the default {requests:,} requests")
    ranks = f" x {attention_dp:,} attention-DP ranks" if attention_dp > 1 else ""
    bound = ("the max batch, --max-batch" if room == max_batch else
             f"the KV cache's room at the mean request's {mean_tokens:,.0f} tokens")
    # a trace's rows are its requests (--requests N reads its first N and adds none): a larger trace fills them; a
    # share under one request a batch was "about 0 a batch" (hW75)
    fill = f"a trace of {room * batches:,} rows" if given == "trace" else f"--requests {room * batches:,}"
    return (f"offline: {count} over {batches:,} engine batches ({replicas:,} replica{'s' if replicas > 1 else ''}"
            f"{ranks}), about {format(share, ',.0f' if share >= 1 else '.2g')} a batch against the {room:,} "
            f"each can hold ({bound}): every batch decodes part-filled, so the tokens/s is that burst's, below the "
            f"deployment's full offline rate, which rises with the batch (and so does TPOT); {fill} fills every batch")


AUTO_TP_KV_SHARE = 0.25  # `--tp auto`: the smallest TP leaving >= 25 % of usable memory to the KV cache


def auto_tp(shape: TransformerShape, accelerator: Accelerator, system: System, gpus: int, pp: int, dtype: str,
            kv_dtype: str, max_batch: int, token_budget: int,
            engine: str | ServingEngine | None = None, prefill_gpus: int = 0,
            prefill: PrefillLayout | None = None, shared_prefill_gpus: int = 0) -> tuple[int, str]:
    """Smallest TP inside the scale-up domain (every one vLLM / SGLang build, else powers of two: `tp_degrees`) that
    leaves a useful KV cache (>= AUTO_TP_KV_SHARE of the usable memory), of those the one holding the fewest
    accelerators on the scale-up domains (`replica_packing.held_gpus`, the count `serve` holds; with a prefill pool
    of its own layout, `prefill_gpus` in `prefill`, the pair's, as they share domains; the smallest of a tie, so a
    TP dividing the domain is the smallest as before), and the note that says the rule, the KV share of each TP
    tried and the one chosen. `shared_prefill_gpus`: the prefill pool's part of `gpus` where it takes the decode
    pool's layout (`--prefill-gpus` alone): a TP must divide both pools' (hW76: `--gpus 16 --prefill-gpus 6` took
    TP 4, then refused the 6-GPU pool "not a multiple of the replica's 4 GPUs", TP 2 dividing both)."""
    family = engine.engine if isinstance(engine, ServingEngine) else (
        None if engine is None else load_engine(engine).engine)
    pools_gpus = (shared_prefill_gpus, gpus - shared_prefill_gpus) if 0 < shared_prefill_gpus < gpus else (gpus,)
    per_stage = math.gcd(*pools_gpus)
    if per_stage % pp:  # (a PP neither pool divides by: refused later, naming the pools)
        pools_gpus, per_stage = (gpus,), gpus
    # vLLM's, SGLang's splits (hW72), every TP they build (hG73); other engines: powers of two
    candidates, unbuilt = tp_degrees(shape, family, system.node.scale_up_domain, (1, 2, 4, 8, 16, 32, 64, 72),
                                     per_stage // pp)
    engine_name = ENGINE_NAMES.get(str(family), family)
    if not candidates:
        raise InputError(f"no TP divides {gpus // pp} {accelerator.device_word}s per pipeline and {shape.num_heads} "
                         "heads")
    domain = system.node.scale_up_domain
    pools = {t: held_pools(gpus, t, pp, prefill_gpus, prefill) for t in candidates}
    held = {t: held_gpus(p, domain) for t, p in pools.items()}
    tried: list[str] = []
    chosen, met = candidates[-1], False
    for t in candidates:
        if met and held[t] >= held[chosen]:
            continue  # holds no fewer than the TP taken (hV2 73: the smallest meeting the share may strand some)
        cap = kv_capacity(shape, accelerator, t, pp, dtype, kv_dtype, token_budget, max_batch, engine=engine)
        share = cap.kv_cache_bytes / cap.usable_bytes if cap.usable_bytes > 0 else 0.0
        tried.append(f"TP {t} {'leaves ' if not tried else ''}{max(share, 0.0) * 100:.0f} %")
        if share >= AUTO_TP_KV_SHARE:
            chosen, met = t, True
    # a TP group stays inside one domain (`replica_packing`): where the smallest TP meeting the share strands some of
    # a domain's accelerators, a larger one meeting it on fewer held accelerators is taken, as serve-plan ranks them
    own = {t: sum(d.gpus for d in p) for t, p in pools.items()}  # the pools' own accelerators
    beside = f" with the prefill pool's {prefill_gpus:,}" if len(pools[chosen]) == 2 else ""
    counts = " and ".join(f"{n // pp}" for n in pools_gpus)
    whose = "" if len(pools_gpus) == 1 else "prefill and decode pools' "
    return chosen, (f"--tp auto: the smallest TP of {', '.join(map(str, candidates))} (dividing the "
                    f"{whose}{counts} "
                    f"{accelerator.device_word}s per pipeline stage and the {shape.num_heads} heads, within the "
                    f"{domain}-{accelerator.device_word} scale-up domain"
                    + (f"; not TP {', '.join(map(str, unbuilt))}, which {engine_name} does not build for "
                       f"{shape.name}'s KV heads or FFN width" if unbuilt else "") + ") leaving >= "
                    f"{AUTO_TP_KV_SHARE * 100:.0f} % of the usable memory to the KV cache"
                    + (", of those the one holding the fewest accelerators on the scale-up domains (a TP group inside "
                       "one; the smallest of a tie)" if any(held[t] > own[t] for t in candidates)
                       else "") + f": {', '.join(tried)}{'' if met else ': none does, the largest taken'}"
                    + (f" (TP {chosen}{beside} holds {held[chosen]:,} of them)" if held[chosen] > own[chosen] else "")
                    + "; --tp N sets it")


def held_pools(gpus: int, tp: int, pp: int, prefill_gpus: int = 0,
               prefill: PrefillLayout | None = None) -> list[Deployment]:
    """The pools `auto_tp` counts the held accelerators of at TP `tp`: `gpus` in replicas of TP x PP, beside
    `prefill_gpus` in the prefill layout `prefill` (its TP and PP the decode pool's where it leaves them) where it
    divides them (else the run is refused later, `disaggregated.split_pools`, and the decode pool counted alone)."""
    decode = Deployment(tp=tp, pp=pp, replicas=gpus // (tp * pp))
    if prefill is None or prefill_gpus <= 0:
        return [decode]
    layout = Deployment(tp=prefill.tp or tp, pp=prefill.pp or pp, attention_dp=prefill.attention_dp or 1)
    if prefill_gpus % layout.gpus_per_replica:
        return [decode]
    return [replace(layout, replicas=prefill_gpus // layout.gpus_per_replica), decode]


def build_requests(workload: WorkloadSpec | None, trace: str | None, input_len: int | None,
                   output_len: int | None, n: int | None, rate: float | None, seed: int,
                   offline: bool = False) -> Requests:
    """The request stream; `rate` None means offline (all at t = 0), except for a trace's own arrivals."""
    if trace is not None:
        requests = read_trace(trace, n)
        if offline:  # everything present at t = 0
            return Requests(requests.arrival_s * 0.0, requests.input_tokens, requests.output_tokens)
        return requests
    count = n or DEFAULT_REQUESTS
    if workload is not None:
        return workload_requests(workload, count, rate, seed)
    return fixed_requests(count, int(input_len or 0), int(output_len or 0), rate, seed)


def trace_rows_note(trace: str | None, asked: int | None, rows: int) -> str | None:
    """`--requests N` with a trace of fewer rows: the run holds the trace's `rows`, said (`read_trace` reads the
    first N rows; a trace adds none of its own, so a larger N ran fewer requests without a word: hS68). None
    without a trace, without --requests, or where the trace had N rows to read."""
    if trace is None or asked is None or rows >= asked:
        return None
    return (f"--requests {asked:,}: the trace holds {counted(rows, 'request')}, and the run is those "
            f"(--requests N reads a trace's first N rows and adds none)")


def trace_clients_note(trace: str | None, clients: int) -> str | None:
    """A trace run as a closed loop: its lengths are sent, its arrival times are not (`--rate` with a trace is
    refused for that reason; `--concurrency` replaced them without a word: hW70). None otherwise."""
    if trace is None or clients <= 0:
        return None
    return (f"--concurrency {clients:,} with --trace: the trace's lengths are sent by {counted(clients, 'client')}, "
            "each request when its client's last one ends; its arrival_s column is not used (leave --concurrency "
            "out to replay the arrivals)")


def tp_span_note(tp: int, cluster: Cluster, row_bytes: float, custom: bool, pool: str = "") -> str | None:
    """TP beyond one scale-up domain, said as `train` says it (`plan_notes.request_notes`), which `--tp auto` and
    serve-plan never propose: its two all-reduces a layer are priced over the scale-out network by NCCL at the
    group's bottleneck tier (`network.collectives`), without the custom all-reduce (inside one domain only, where the
    stack has one: `custom`), shown on one token's activations (`row_bytes`: decode's latency-bound message). None
    inside one domain."""
    fabric, word = cluster.fabric, cluster.accelerator.device_word
    domain = fabric.scale_up_domain
    if tp <= domain:
        return None
    across = float(collective_time(fabric, "all_reduce", row_bytes, tp, 1))  # (custom's time too: NCCL's outside)
    inside = float(custom_all_reduce_time(fabric, row_bytes, domain) if custom else
                   collective_time(fabric, "all_reduce", row_bytes, domain, 1))
    tier = bottleneck_tier(fabric, tp, 1)  # the NICs, an oversubscribed tier, or the scale-up ring limit
    bound = {"nic": "the NICs", "scale-up": "the scale-up links' share of the ring"}.get(tier, f"the {tier} tier")
    return (f"TP {tp}{f' ({pool} pool)' if pool else ''} spans {-(-tp // domain)} scale-up domains of {domain} "
            f"{word}s: its all-reduces (two a layer) cross the scale-out network, priced by NCCL bound by {bound}"
            f"{', not the in-domain custom all-reduce' if custom else ''}: one "
            f"token's {row_bytes / 1024:.0f} KiB takes {across * 1e6:.1f} us, against {inside * 1e6:.1f} us at TP "
            f"{domain} inside a domain; --tp auto and serve-plan keep TP inside one")


def nccl_inside_note(tp: int, cluster: Cluster, row_bytes: float, engine: ServingEngine, pool: str = "") -> str | None:
    """Which kernel runs a TP group's all-reduces inside one scale-up domain where the stack has a custom all-reduce
    but its engine does not run it at that group (`ServingEngine.custom_all_reduce_at`): NCCL's, because the group
    is not one of its world sizes (hI58) or spans hosts its kernel cannot (vLLM / SGLang `custom_all_reduce_one_host`,
    hI59: TP 8 on GB200 NVL72's 4-GPU hosts), shown on one token's activations against the custom kernel's time.
    None where the custom kernel runs, the stack has none, or the group leaves the domain (`tp_span_note`)."""
    fabric, word = cluster.fabric, cluster.accelerator.device_word
    host = fabric.host_accelerators
    if tp <= 1 or tp > fabric.scale_up_domain or not engine.custom_all_reduce or engine.custom_all_reduce_at(tp, host):
        return None
    why = (f"spans {-(-tp // host)} hosts of {host} {word}s and {engine.name}'s custom all-reduce needs every rank on "
           "one (`custom_all_reduce_one_host`)" if engine.custom_all_reduce_at(tp) else
           f"is not a size {engine.name}'s custom all-reduce runs at ("
           f"{', '.join(map(str, engine.custom_all_reduce_world_sizes))}: `custom_all_reduce_world_sizes`)")
    nccl = float(collective_time(fabric, "all_reduce", row_bytes, tp, 1))
    custom = float(custom_all_reduce_time(fabric, row_bytes, tp))
    return (f"TP {tp}{f' ({pool} pool)' if pool else ''} {why}: its all-reduces (two a layer) run NCCL's over the "
            f"scale-up links, one token's {row_bytes / 1024:.0f} KiB {nccl * 1e6:.1f} us, against "
            f"{custom * 1e6:.1f} us for the custom kernel")


LITTLE_TOLERANCE = 0.02  # |X E2E / N - 1| the client's 1 ms round trip and a run's start and drain stay within


def littles_law_note(result: dict[str, Any], clients: int) -> str | None:
    """A closed loop whose reported latencies do not satisfy Little's law (N = X x E2E at ~zero think time) says
    why: the stack's front end and a schedule-ahead lag are added to the reported TTFT and end-to-end latency but
    kept out of the simulated clients' cycle (`serving.client_loop`, FRONT_END_IN_CYCLE / LAG_IN_CYCLE off)."""
    e2e = (result.get("e2e_s") or {}).get("mean")
    rate = result.get("requests_per_s")
    if not clients or not e2e or not rate or abs(rate * e2e / clients - 1.0) <= LITTLE_TOLERANCE:
        return None
    front_end_ms = 1e3 * float(result.get("deployment", {}).get("front_end_s") or 0.0)
    return (f"closed loop: requests/s x mean end-to-end latency / clients = {rate * e2e / clients:.2f}, not 1 "
            f"(Little's law): the reported latencies hold the stack's front end ({front_end_ms:.0f} ms) and any "
            "schedule-ahead lag, which the simulated clients' cycle leaves out (in it, fixed-length start-up waves "
            "stay together, which the measured Hopper serving rows do not show: serving.client_loop)")



def check_inputs(offline: bool, rate: float | None, input_len: int | None, output_len: int | None,
                 workload: str | None, trace: str | None, requests: int | None,
                 concurrency: int | None = None) -> None:
    if rate is not None:  # the CLI's bound, one line as it says it (hK66: rate=inf ran, as a burst at t = 0)
        bounds.ARRIVAL_RATE.check(rate, "--rate")
    sources = sum(x is not None for x in (workload, trace)) + (input_len is not None or output_len is not None)
    if sources != 1:
        raise InputError("give exactly one of --input-len/--output-len, --workload or --trace")
    if (input_len is None) != (output_len is None):
        raise InputError("--input-len and --output-len go together")
    check_lengths(input_len, output_len)
    if trace is not None and rate is not None:
        raise InputError("--rate conflicts with --trace (the trace carries arrival times); use --offline or neither")
    if concurrency is not None:
        if offline or rate is not None:
            raise InputError("give exactly one of --offline, --rate QPS or --concurrency N")
        if concurrency < 1:
            raise InputError(f"--concurrency must be >= 1 client, got {concurrency}")
    elif trace is None and offline == (rate is not None):
        raise InputError("give exactly one of --offline, --rate QPS or --concurrency N")
    if requests is not None and requests < 1:
        raise InputError(f"--requests must be >= 1, got {requests}")


def check_lengths(input_len: int | None, output_len: int | None) -> None:
    """The CLI's bound on fixed lengths (`bounds.TOKENS`) for a Python caller: `input_len=nan` was numpy's
    ValueError, `output_len=inf` an OverflowError (hR66)."""
    for flag, tokens in (("--input-len", input_len), ("--output-len", output_len)):
        if tokens is not None:
            bounds.TOKENS.check(tokens, flag)


def check_slos(ttft_slo: float | None, tpot_slo: float | None) -> None:
    """The CLI's bound on a latency SLO (`bounds.SLO_SECONDS`) for a Python caller: `ttft_slo=nan` ran (hK66)."""
    for flag, slo in (("--ttft-slo", ttft_slo), ("--tpot-slo", tpot_slo)):
        if slo is not None:
            bounds.SLO_SECONDS.check(slo, flag)


def plan_slos(spec: WorkloadSpec | None, ttft_slo: float | None, tpot_slo: float | None,
              output_len: int | None) -> tuple[float, float | None, list[str]]:
    """serve-plan's SLOs: the given ones, else the workload's; TTFT always. A TPOT SLO only where a request decodes:
    at a fixed `--output-len 1` no request has a decode step, its TPOT is not counted (`request_metrics`: the
    runs mask one-token requests), so none is needed and, not given, the answer has none (null, one note; hW73:
    it was refused as missing). Returns (ttft, tpot or None, notes)."""
    ttft = ttft_slo if ttft_slo is not None else (spec.ttft_slo_s if spec else None)
    tpot = tpot_slo if tpot_slo is not None else (spec.tpot_slo_s if spec else None)
    one_token = spec is None and output_len == 1
    if ttft is None or (tpot is None and not one_token):  # the SLOs missing, named (hW75: a workload file with a
        # TTFT SLO alone was told to give both, "or a workload that defines them")
        missing = [f"--{k}-slo" for k, v in (("ttft", ttft), ("tpot", tpot)) if v is None and not (k == "tpot" and
                                                                                                  one_token)]
        raise InputError(f"give {' and '.join(missing)} ("
                         + (f"workload {spec.name or 'file'} defines no {' or '.join(m[2:6].upper() for m in missing)} "
                            "SLO)" if spec else "or a workload that defines them)")
                         + ("; --output-len 1 needs only --ttft-slo" if ttft is None and one_token else ""))
    moot = "a --tpot-slo is not counted" if tpot is not None else "no TPOT SLO is needed"
    return ttft, tpot, ([f"--output-len 1: no request has a decode step, so {moot} (only TTFT is judged)"]
                        if one_token else [])


def checkpoint_mismatch(shape: TransformerShape, label: str) -> str | None:
    """One line where a model config stores its weights in another format than the run's `label`, else None."""
    stored = shape.checkpoint_weight_dtype
    if not stored or stored == label:
        return None
    scope = shape.checkpoint_weight_scope
    layers = "all linear layers" if scope == "all" else f"the {scope_words(scope)[0]}"
    return (f"model config {shape.name!r}: quantization_config ({stored}) stores {stored} weights ({layers}); priced "
            f"at the command's --dtype {label} on every layer (the config's scope applies at --dtype {stored})")


def gemm_fraction_note(accelerator: Accelerator, label: str) -> str | None:
    """The note a serving answer carries where a format's GEMMs take another format's measured fraction of peak
    (mxfp8 at fp8's, `RECIPES["mxfp8"].rate_dtypes`; int8 at fp8's, the same 8-bit MMA at one peak,
    `Accelerator.same_mma_dtype`, hQ69), else None. The other serving formats' rates are stated as before (nvfp4 at
    fp4's fraction, as `train` prices it). int8 on a part whose int8 peak is below its fp8 one (B300 / GB300:
    Blackwell Ultra cuts int8 to ~1/30, catalog files' sources): that peak, named beside fp8's (hR69)."""
    if label not in ("mxfp8", "int8") or not accelerator.supports(label):
        return None
    if label == "int8" and accelerator.supports("fp8") and (low := accelerator.peak("int8")) < accelerator.peak("fp8"):
        return (f"int8 GEMMs at {accelerator.name}'s int8 peak, {low / 1e12:,.0f} TOPS, 1/"
                f"{accelerator.peak('fp8') / low:.0f} of its fp8 peak, times the fraction "
                f"{accelerator.matmul_fraction('int8'):g}: fp8 runs the same 8-bit weights' GEMMs faster here")
    fractions = accelerator.efficiency.matmul_max_fraction
    measured = (accelerator.same_mma_dtype(label) if label == "int8" else
                next((d for d in RECIPES[label].rate_dtypes if d in fractions), None))
    if measured is None or measured == label:
        return None
    return (f"{label} GEMMs at {accelerator.name}'s {label} peak times its measured {measured} fraction of peak, "
            f"{accelerator.matmul_fraction(measured):g} (its catalog gives no {label} fraction)")
