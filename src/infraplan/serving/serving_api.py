"""`estimate_serving`: the Python API behind `infraplan serve` (resolves presets, requests, deployment).

A notebook user calls `estimate_serving("llama3-8b", "dgx-h100-superpod", 8, input_len=1000, output_len=1000,
offline=True, dtype="fp8")` and gets the typed result (serving/results.py) whose JSON the CLI prints.

Load: `offline` (everything at t = 0), `rate` (open loop, requests/s) or `concurrency` (closed loop of N
clients, each sending its next request when its last one ends: how genai-perf, vLLM benchmark_serving
--max-concurrency and SGLang bench_serving measure). `stack` (a serving stack profile: trtllm-0.x | vllm-0.x |
sglang-0.x, a versioned engine name such as vllm-0.12.0, or a YAML) picks the KV-memory convention, the default
batch limits, the scheduler and custom all-reduce (`serving.engines`); offline and closed-loop runs
default to the engine's own max batch, open-loop runs to 256. Without `kv_dtype` the KV cache follows the model
config's quantization_config, else the weights (fp8 / nvfp4: fp8), as the engines' kv_cache_dtype "auto" does
(`serving.kv_default`); the result says which and why (`deployment.kv_dtype_source`). `tp="auto"` takes the smallest
TP leaving >= 25 % of the usable memory to the KV cache, of those the fewest held (`auto_tp`), and says so with each
TP's share (`deployment.tp_source`). The request count and stream, `--tp auto`, the input checks and the notes on
them are `serving.serve_inputs`.
"""

from __future__ import annotations

import warnings

from infraplan.budget import require_serving_memory
from infraplan.catalog import load_model
from infraplan.catalog.answer_bands import serving_answer_band
from infraplan.catalog.error_bands import error_band, no_band_basis
from infraplan.catalog.figures import standing_note, use_note
from infraplan.catalog.model_config import ModelConfigWarning
from infraplan.catalog.serving_loader import list_serving_presets, load_workload
from infraplan.cluster import Cluster
from infraplan.cluster.cost import usd_per_accelerator_hour_if_priced
from infraplan.cluster.generic import generic_part_notes
from infraplan.errors import InputError, wrong_kind
from infraplan.ops.params import ACT_BYTES
from infraplan.serving import chunked_attention, ep_alltoall_tables, speculative, steady_state
from infraplan.serving.deployment import moe_tp_ep
from infraplan.serving.disaggregated import PrefillLayout, split_pools
from infraplan.serving.engines import ONLINE_MAX_BATCH, changed_engine_settings, load_engine, versioned_name_note
from infraplan.serving.expert_slots import uneven_experts_note
from infraplan.serving.kv_cache import KV_DTYPES, WEIGHT_DTYPES, kv_dtype_refusal
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.kv_handoff import stated_handoff_note
from infraplan.serving.llm_iteration import Deployment, check_deployment
from infraplan.serving.pipeline_hops import hops_note
from infraplan.serving.raised_budget import deployment_budget_note, iteration_batch
from infraplan.serving.release_tables import prices_collectives, what_if_notes
from infraplan.serving.replica_packing import placed
from infraplan.serving.results import ImageServingResult, ServingResult
from infraplan.serving.serve_inputs import (
    CLOSED_LOOP_REQUESTS_PER_CLIENT,
    DEFAULT_REQUESTS,
    auto_tp,
    build_requests,
    check_inputs,
    check_slos,
    checkpoint_mismatch,
    closed_loop_requests,
    few_requests_note,
    gemm_fraction_note,
    littles_law_note,
    nccl_inside_note,
    offline_fill_note,
    tp_span_note,
    trace_clients_note,
    trace_rows_note,
)
from infraplan.serving.serving_metrics import assumed_host_note, per_watt_note, steady_power_note
from infraplan.serving.serving_sim import simulate_deployment, simulate_disaggregated
from infraplan.serving.stack_placement import serving_stack_for
from infraplan.serving.workloads import (
    clip_to_context,
    clipped_note,
    ignored_columns_note,
    require_context,
    unused_arrival_note,
)
from infraplan.units import counted

IMAGE_MAX_BATCH = 16  # an image run's batch cap where --max-batch is not given (`estimate_image_serving`'s default)


def estimate_serving(model: str, system: str, gpus: int, *, tp: int | str = "auto", pp: int = 1,
                     ep: int | None = None,
                     dtype: str = "bf16", kv_dtype: str | None = None, offline: bool = False,
                     rate: float | None = None, input_len: int | None = None, output_len: int | None = None,
                     workload: str | None = None, trace: str | None = None, requests: int | None = None,
                     max_batch: int | None = None, token_budget: int | None = None, ttft_slo: float | None = None,
                     tpot_slo: float | None = None, seed: int | None = None, prefill_gpus: int = 0,
                     usd_per_gpu_hour: float | None = None, concurrency: int | None = None,
                     stack: str | None = None, engine: str | None = None, attention_dp: int = 1,
                     moe_tp: int = 1, speculative_tokens: int = 0, acceptance: float | None = None,
                     prefill: PrefillLayout | None = None,
                     requests_cap: int | None = None) -> ServingResult | ImageServingResult:
    """Simulate serving a model on `gpus` accelerators of a system; see `infraplan serve --help`.

    `stack`: the serving stack profile (name, versioned engine name or YAML path); `engine` is its old alias.
    `attention_dp` > 1: wide EP (attention data-parallel ranks of TP GPUs, experts over all of them; `tp` 'auto'
    is then 1 and `ep` 1 means attention_dp x TP); `moe_tp` > 1 with it: each expert split over `moe_tp` of the
    ranks' GPUs, EP (default) attention_dp x TP / moe_tp (`Deployment.moe_tp`); `speculative_tokens` K with per-token
    `acceptance` R: MTP / speculative decoding (`serving.llm_iteration`). `seed` (default 0) draws arrivals and
    lengths; with a `trace`, which carries them, it is refused. `prefill` given: the `prefill_gpus` run their own
    layout (MoE TP 1 unless its `moe_tp`) and the TP / PP / EP / attention DP / MoE TP above describe the decode pool
    on the other GPUs (`serving.disaggregated`).
    `requests_cap`: the most requests the caller simulates (the web's), a closed loop's default cut to it, said.
    """
    if not isinstance(model, str):  # a TransformerShape was an AttributeError inside pydantic (hK66)
        raise wrong_kind("model", "a preset name or a config.json path (text)", model)
    prefill = PrefillLayout.read(prefill)  # (a mapping of its fields too: a sweep spec's `prefill: {tp: 2}`)
    check_inputs(offline, rate, input_len, output_len, workload, trace, requests, concurrency)
    check_slos(ttft_slo, tpot_slo)
    given_requests = requests
    requests = closed_loop_requests(requests, concurrency, trace)  # 10 per client where none are given (hU53)
    capped = requests is not None and requests_cap is not None and requests > requests_cap and given_requests is None
    requests = requests_cap if capped else requests  # the web's cap: said as the cap, not "leave --requests out"
    if seed is not None and trace is not None:  # nothing is drawn: a seed changed no answer (as collective's, hU47)
        raise InputError("--seed draws arrivals and lengths, which a --trace carries: drop --seed")
    seed = 0 if seed is None else seed  # the arrivals' and lengths' draw without a trace
    if ep == 1 and attention_dp > 1 and moe_tp == 1:  # SGLang's dp attention with ep_size 1 (server_args.py:471,
        # its default) shards the MoE layers by TP over every rank (srt/layers/moe/fused_moe_triton/layer.py:192-202):
        # MoE TP over all of them, which --moe-tp states (`Deployment.moe_tp`); --ep 1 alone is not read as it
        whole = attention_dp * (int(tp) if str(tp).isdigit() else 1)
        raise InputError(f"--attention-dp {attention_dp} with --ep 1 is attention DP over TP-sharded MoE layers "
                         f"(SGLang's ep_size 1): give --moe-tp {whole} for that (every expert split over all attention "
                         f"DP x TP accelerators); wide EP spreads the experts over the ranks: leave --ep out or give "
                         f"--ep {whole}")
    given_ep, ep = ep, 1 if ep is None else ep  # with --attention-dp: attention DP x TP / MoE TP (below)
    speculative.require_acceptance(speculative_tokens, acceptance)
    acceptance = acceptance or 0.0
    require_serving_memory(requests or DEFAULT_REQUESTS)  # infraplan.budget: refuse before allocating
    if stack is not None and engine is not None and load_engine(stack).name != load_engine(engine).name:
        raise InputError(f"--engine {engine} is an alias of --stack; give one (got --stack {stack})")
    asked = stack if stack is not None else engine
    if asked is not None:
        load_engine(asked)  # an unknown or training stack refused before anything else, as before
    spec = load_workload(workload) if workload is not None else None
    diffusion = spec is not None and spec.kind == "diffusion"  # a CPU runs neither, as `plan` / `fleet-mix` say
    part = Cluster.resolve(system, purpose="image generation" if diffusion else "LLM serving")
    if spec is not None and spec.kind == "diffusion":
        if concurrency is not None:
            raise InputError("--concurrency applies to LLM serving; image generation takes --rate or --offline")
        llm_only = {"--tp": tp != "auto", "--pp": pp != 1, "--ep": ep != 1, "--attention-dp": attention_dp != 1,
                    "--moe-tp": moe_tp != 1,
                    "--speculative-tokens": speculative_tokens != 0, "--acceptance": acceptance != 0.0,
                    "--kv-dtype": kv_dtype is not None, "--token-budget": token_budget is not None,
                    "--tpot-slo": tpot_slo is not None, "--prefill-gpus": prefill_gpus != 0,
                    "--prefill-*": prefill is not None and prefill.given,
                    # no serving stack prices an image (`diffusion.diffusion_cost`): was read by nothing, where `plan`
                    # refuses an image service's `stack` (hH66)
                    "--stack": stack is not None, "--engine": engine is not None}
        given = [flag for flag, set_ in llm_only.items() if set_]
        if given:  # were ignored silently: an image replica is one accelerator, its batch --max-batch
            raise InputError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to LLM serving; image "
                             "generation takes --gpus, --rate or --offline, --max-batch, --dtype and --ttft-slo "
                             "(the image latency SLO)")
        from infraplan.serving.diffusion import estimate_image_serving

        image = estimate_image_serving(
            spec, system, gpus, rate=rate, max_batch=max_batch or IMAGE_MAX_BATCH,  # at a rate: the p99's length
            requests=DEFAULT_REQUESTS if requests is None and rate is None else requests,
            e2e_slo=ttft_slo, seed=seed, usd_per_gpu_hour=usd_per_gpu_hour, dtype=dtype, model=model)
        band = error_band(image["accelerator"], None, "image-generation")  # no validation case: none, said why
        # the part's figures' standing and stated use, as an LLM answer on it says them (`what_if_notes`); hH66: an
        # image answer on MTIA 300 / 400 / 450 or Rubin said neither
        acc = part.accelerator
        figures = [n for n in (standing_note(acc), use_note(acc, "inference", "generative-ai")) if n]
        generic = generic_part_notes(acc, host=True, node=True) if part.generic else []  # (hU50)
        image["warnings"] = [*image.get("warnings", []), *figures, *generic]
        return ImageServingResult.model_validate({**image, "error_band": band, "error_band_basis": (
            band.basis if band else no_band_basis("image-generation"))})
    # the stack: the asked one where it runs on the part, else (none asked) the part's vendor's (`serving.engines`)
    spec_engine, stack_notes = serving_stack_for(asked, Cluster.resolve(system).accelerator)
    default_batch = spec_engine.offline_max_batch if offline or concurrency is not None else ONLINE_MAX_BATCH
    if max_batch is None:
        max_batch = default_batch
    if model in list_serving_presets("diffusion"):  # was "unknown model", a list of LLMs without it
        raise InputError(f"{model} is a diffusion model: serve it with --workload image-generation")
    shape = load_model(model)
    cluster = Cluster.resolve(system).for_gpus(gpus)  # an accelerator preset at any size, as `train`
    sys_spec, acc = cluster.system, cluster.accelerator
    cluster.check_gpus(gpus)
    kv, kv_why = (kv_dtype, "--kv-dtype") if kv_dtype else default_kv_dtype(shape, dtype, spec_engine.engine,
                                                                                    acc.catalog_name)
    if kv not in KV_DTYPES:  # the reason where the format is a weight format (mxfp8 on MTIA, hM70)
        raise InputError(kv_dtype_refusal(kv))
    if dtype not in WEIGHT_DTYPES or kv not in KV_DTYPES:
        raise InputError(f"weights take {' | '.join(WEIGHT_DTYPES)} and the KV cache {' | '.join(KV_DTYPES)}; "
                         f"got --dtype {dtype!r}, --kv-dtype {kv!r}")
    if pp < 1 or gpus % pp:
        raise InputError(f"--gpus {gpus} is not divisible by PP {pp}")
    if attention_dp < 1 or moe_tp < 1:
        raise InputError(f"--attention-dp and --moe-tp must be >= 1, got {attention_dp} and {moe_tp}")
    # a given budget, else the stack's on the part (SGLang: chunked_prefill_size by GPU memory, hJ71), one attention
    # DP rank's (SGLang: // dp_size, hG72); a prefill pool of its own: --prefill-token-budget or its ranks' (hG73)
    budget_given = token_budget
    token_budget = spec_engine.budget_of(token_budget, acc.memory_bytes, attention_dp, max_batch)
    # TensorRT-LLM's default max_num_tokens caps the sequences an iteration runs (`raised_budget`, hS76)
    run_batch = iteration_batch(spec_engine.engine, max_batch, token_budget, budget_given, speculative_tokens)
    split = prefill is not None and prefill.given  # the prefill pool has its own layout; the rest is the decode pool
    if split and prefill_gpus >= gpus:
        raise InputError(f"--prefill-gpus {prefill_gpus} must leave decode {acc.device_word}s below --gpus {gpus}")
    pool_gpus = gpus - prefill_gpus if split else gpus
    tp_why = "--tp"  # deployment.tp_source: how --tp auto chose, as kv_dtype_source says the KV dtype's default
    if tp == "auto" and attention_dp > 1:
        tp_n = 1  # DP attention: one GPU per attention rank, as SGLang and DeepSeek decode deploy
        tp_why = "--tp auto with --attention-dp: TP 1, one accelerator per attention rank (SGLang, DeepSeek decode)"
    elif tp == "auto":
        tp_n, tp_why = auto_tp(shape, acc, sys_spec, pool_gpus, pp, dtype, kv, run_batch, token_budget, spec_engine,
                               prefill_gpus if split else 0, prefill,  # the pair's held count (hT75)
                               shared_prefill_gpus=0 if split else prefill_gpus)  # one layout: a TP dividing both
    else:
        try:
            tp_n = int(tp)
        except ValueError:
            raise InputError(f"--tp must be a whole number or 'auto', got {tp!r}") from None
    if tp_n < 1:  # was "--gpus 8 is not divisible by TP x PP x attention DP = 0" (hU55)
        raise InputError(f"--tp must be >= 1 or 'auto', got {tp_n}")
    per_replica = tp_n * pp * attention_dp
    if not split and prefill_gpus > 0 and prefill_gpus % per_replica:  # hL63: was "--gpus 12 is not divisible by
        # ... = 8" for --gpus 12 --prefill-gpus 4 --tp 8, whose decode pool (8) is whole: the prefill pool is not
        raise InputError(f"--prefill-gpus {prefill_gpus} is not a multiple of the replica's {per_replica} "
                         f"{acc.device_word}s (TP x PP x attention DP, both pools' layout without --prefill-tp / "
                         f"--prefill-pp / --prefill-attention-dp); give those for the prefill pool's own layout")
    if pool_gpus % per_replica:
        raise InputError(f"--gpus {gpus}{' less --prefill-gpus' if split else ''} is not divisible by TP x PP x "
                         f"attention DP = {per_replica}")
    ep = moe_tp_ep(attention_dp, tp_n, moe_tp, given_ep)  # EP x MoE TP = attention DP x TP (`Deployment.moe_tp`)
    replicas = pool_gpus // per_replica
    dep = Deployment(tp=tp_n, pp=pp, ep=ep, replicas=replicas, dtype=dtype, kv_dtype=kv, max_batch=run_batch,
                     token_budget=token_budget, engine=spec_engine.engine, stack=spec_engine.ref,
                     attention_dp=attention_dp, moe_tp=moe_tp, speculative_tokens=speculative_tokens,
                     acceptance=acceptance)
    check_deployment(shape, acc, dep)
    pair = None if not split or prefill is None else split_pools(shape, acc, dep, prefill_gpus, prefill, (
        spec_engine.budget_of(prefill.token_budget or budget_given, acc.memory_bytes, prefill.attention_dp or 1)))
    if pair is None and (prefill_gpus < 0 or prefill_gpus % per_replica or (prefill_gpus and prefill_gpus >= gpus)):
        word = acc.device_word  # the part's word: "GPUs" on an MTIA read wrong (hU56)
        raise InputError(f"--prefill-gpus {prefill_gpus} must be a multiple of the replica's {per_replica} {word}s "
                         f"and leave decode {word}s: below --gpus {gpus} (the whole deployment, both pools)")
    closed = concurrency is not None
    reqs = build_requests(spec, trace, input_len, output_len, requests, None if offline or closed else rate, seed,
                          offline or closed)
    clipped, drawn = 0, reqs
    if spec is not None:  # a preset's long tail is truncated to the model's context, as servers do
        reqs, clipped = clip_to_context(reqs, shape.max_seq_len)
    require_context(int((reqs.input_tokens + reqs.output_tokens).max()), shape.name, shape.max_seq_len)
    ttft = ttft_slo if ttft_slo is not None else (spec.ttft_slo_s if spec else None)
    tpot = tpot_slo if tpot_slo is not None else (spec.tpot_slo_s if spec else None)
    # the accelerators held: whole domains' worth where a TP group does not divide one (`replica_packing`, hT73)
    held, idle = placed([dep] if pair is None else [pair.prefill, pair.decode], cluster)
    price = usd_per_gpu_hour if usd_per_gpu_hour is not None else usd_per_accelerator_hour_if_priced(cluster, gpus=held)
    if other_format := checkpoint_mismatch(shape, dtype):  # the config stores another format (`serve_inputs`); said
        warnings.warn(other_format, ModelConfigWarning, stacklevel=2)  # once the inputs pass: a refusal is one line
    # --offline: an in-process batch (trtllm-bench, MLPerf Offline through LoadGen) has no HTTP front end, as the
    # validation scores those rows (`front_end: false`, validation/cases/inference*.yaml)
    result = (simulate_disaggregated(shape, cluster, pair, reqs, ttft_slo_s=ttft, tpot_slo_s=tpot, usd_per_hour=price,
                                     clients=concurrency or 0, front_end=not offline, held_gpus=held)
              if pair is not None else
              simulate_deployment(shape, cluster, dep, reqs, prefill_replicas=prefill_gpus // per_replica,
                                  ttft_slo_s=ttft, tpot_slo_s=tpot, usd_per_hour=price, clients=concurrency or 0,
                                  front_end=not offline, held_gpus=held))
    header = {"model": shape.name, "system": sys_spec.name, "accelerator": acc.name,
              "workload": workload or ("trace:" + trace if trace else f"fixed {input_len}/{output_len}"),
              "offline": offline,
              "rate_per_s": rate, "concurrency": concurrency, "seed": seed, "stack": spec_engine.name,
              "requests_clipped_to_context": clipped}
    result["deployment"]["kv_dtype_source"] = kv_why
    result["deployment"]["tp_source"] = tp_why
    # catalog/error_bands.yaml: the default serving stack as shipped by the rows re-run on it, else by engine class
    # (hN42) and by engine class when an engine setting is not the stack's default (`engines.changed_engine_settings`)
    changed = changed_engine_settings(spec_engine, max_batch, default_batch, token_budget, speculative_tokens,
                                      prefill.max_batch if split and prefill is not None else None, acc.memory_bytes,
                                      attention_dp, result["deployment"].get("prefill") if pair else None)
    ref = dep.stack or spec_engine.ref
    defaulted = asked is None  # the part's vendor's default stack (`stack_placement.serving_stack_for`)
    context = float((reqs.input_tokens + reqs.output_tokens).mean())  # beyond every case's: said (hU59)
    band = serving_answer_band(acc.catalog_name, ref, changed, defaulted, context_tokens=context)
    notes = [*stack_notes, *versioned_name_note(asked), *filter(None, [clipped_note(drawn, reqs, clipped, shape.name,
                                                                                  shape.max_seq_len)]),
             *what_if_notes(acc, dep.stack, usd_per_gpu_hour is None, prices_collectives(result["deployment"])),
             *filter(None, [deployment_budget_note(spec_engine, budget_given, acc.memory_bytes,  # hL75; serve-plan's
                                                   attention_dp, max_batch, speculative_tokens)])]  # too (hS77)
    clients = concurrency or 0
    if closed and (capped or given_requests is not None and len(reqs) < clients):  # whatever Little's law reads
        notes.append(few_requests_note(len(reqs), clients, capped))
    elif closed and (little := littles_law_note(result, clients)):  # few requests given: their note says why
        few = given_requests is not None and len(reqs) < CLOSED_LOOP_REQUESTS_PER_CLIENT * clients
        notes.append(few_requests_note(len(reqs), clients) if few else little)
    notes += steady_state.short_run_note(reqs.arrival_s, result) if rate and not closed else []  # hO, session 53
    if short_trace := trace_rows_note(trace, given_requests, len(reqs)):  # --requests past a trace's rows (hS68)
        notes.append(short_trace)
    if replayed := trace_clients_note(trace, clients if closed else 0):  # its arrivals unused (hW70)
        notes.append(replayed)
    if undrawn := unused_arrival_note(spec, workload, clients if closed else 0, offline):  # a workload's (hW75)
        notes.append(undrawn)
    if unread := ignored_columns_note(trace):  # a trace's columns beyond its three, named (hW75)
        notes.append(unread)
    source = "trace" if trace else "requests" if given_requests is not None else "default"  # the offline count's
    if offline and pair is None and dep.pp == 1 and (fill := offline_fill_note(  # few requests a batch (hW59)
            len(reqs), source, context, dep.replicas, dep.attention_dp, dep.max_batch,
            result["deployment"]["kv_cache_tokens_per_replica"])):
        notes.append(fill)
    notes += steady_power_note(result, acc, sys_spec)  # a steady draw above TDP + host: its J/token reads high (hO57)
    notes += per_watt_note(result, acc, sys_spec, ref)  # chip vs platform W, launches assumed (MTIA: hM69)
    host_said = assumed_host_note(result, sys_spec, acc.device_word)  # an ASSUMED host share in J/token (hM70)
    notes += host_said
    if shape.sliding_window and shape.num_sliding_layers == shape.num_layers and (dep.engine or "trtllm") == "trtllm":
        notes.append(f"every layer of {shape.name} slides ({shape.sliding_window:,} keys): its KV pool is billed the "
                     "full length on every layer, not the window (the cap is for hybrid models: "
                     "serving.kv_pool_trtllm)")
    notes += chunked_attention.chunked_note(shape)  # Llama 4's chunked layers
    if speculative_tokens and not shape.num_mtp_layers:  # no MTP module: the draft priced is not the user's (hU53)
        notes.append(f"{shape.name} has no multi-token-prediction module (num_nextn_predict_layers): its "
                     f"{counted(speculative_tokens, 'draft token')} a step "
                     f"{'is' if speculative_tokens == 1 else 'are'} priced as a one-layer draft of its own shape "
                     "(EAGLE's, serving.speculative), not a separate draft model; --acceptance is that draft's")
    tps = {"": dep.tp} if pair is None else {"prefill": pair.prefill.tp, "decode": pair.decode.tp}
    row = shape.hidden_size * ACT_BYTES  # decode's all-reduce: one token's; custom at a domain's size if the engine
    custom = spec_engine.custom_all_reduce_at(cluster.fabric.scale_up_domain, cluster.fabric.host_accelerators)
    notes += [n for pool, t in tps.items() if (n := tp_span_note(t, cluster, row, custom, pool))]  # (hU56)
    notes += [n for pool, t in tps.items() if (n := nccl_inside_note(t, cluster, row, spec_engine, pool))]  # (hI59)
    notes += [idle] if idle else []  # the held domains' idle accelerators (hT73)
    notes += [n for n in [stated_handoff_note(result["deployment"], cluster.fabric.scale_up_domain,
                                              acc.device_word)] if n]  # hT75; one layout's split too (hL75)
    pools = {"": dep} if pair is None else {"prefill": pair.prefill, "decode": pair.decode}
    notes += [n for pool, d in pools.items()
              if (n := hops_note(cluster.fabric, d.tp, d.pp, d.attention_dp, acc.device_word, pool))]  # (hT74)
    notes += [n for pool, d in pools.items()
              if (n := ep_alltoall_tables.all_to_all_note(d.engine, cluster.fabric, d.ep, d.attention_dp, d.moe_tp,
                                                          pool))]  # which all-to-all prices wide EP (hW67)
    if dep.ep > (domain := sys_spec.node.scale_up_domain):  # said as train says where its EP group runs (hU53)
        notes.append(f"EP {dep.ep} spans {-(-dep.ep // domain)} scale-up domains of {domain} "
                     f"{acc.device_word}s: its dispatch / combine all-to-all is priced across the scale-out network "
                     "(network.collectives)")
    if uneven := uneven_experts_note(shape, dep.ep, dep.engine):  # EP does not divide the experts
        notes.append(uneven)
    if rate_note := gemm_fraction_note(acc, dep.dtype):  # mxfp8, int8 at fp8's measured fraction (`serve_inputs`)
        notes.append(rate_note)
    # a part on the generic node: what it assumes of a GPU server (hU50; CLI, web, API alike); its host share once,
    # in the joules_per_token line where that says it (hK71)
    notes += generic_part_notes(part.accelerator, host=not host_said, node=True) if part.generic else []
    if notes:  # a what-if's preset tables and price (`serving.release_tables.what_if_notes`)
        result["warnings"] = [*result.get("warnings", []), *notes]
    ttft_band = serving_answer_band(acc.catalog_name, ref, changed, defaulted, metric="ttft", context_tokens=context)
    return ServingResult.model_validate({**header, **result, "error_band": band, "ttft_error_band": ttft_band})
