"""The layouts `serve-plan`'s capacity search (`serving.capacity`) tries at one PP level, the weight formats it
searches, and why a layout the stack's engine cannot build is rejected.

Weight formats (`weight_kinds`): the asked `--dtypes` the accelerator and the stack run (its `weight_formats`, else
its engine family's: `serving.deployment.format_gap`); where none does, one line naming the formats they do run and
the other shipped stacks that run an asked format on that part (`serving.deployment.other_stacks`, as `serve`'s refusal
names them, hW51).

Layouts (`level_layouts`): (TP, attention DP, MoE TP, batch cap). The TP layouts (attention DP 1); then, for an MoE
model at PP 1, the wide-EP ones (TP 1, attention DP d = EP d, `capacity_space.wide_ep_degrees`); then attention DP d
with MoE TP m (each expert's FFN split over m of the d GPUs, EP d / m: `serving.deployment.Deployment.moe_tp`), for
the powers of two 2 <= m <= d dividing the model's expert width:
- TensorRT-LLM: `moe_tensor_parallel_size` x `moe_expert_parallel_size` over the attention-DP ranks, any split (the
  measured rows of AIConfigurator's silicon sample run attention DP 4 with MoE TP 2 and 4, DP 16 with MoE TP 4, DP 64
  with MoE TP 8: validation/data/serving_measured_blackwell.csv, serving_measured_hopper_moe.csv);
- SGLang: with `--enable-dp-attention`, its MoE layers run `tp_size / ep_size` tensor shards (ep_size 1, its default,
  is MoE TP over every rank: sglang 0.5.9 server_args.py:471, srt/layers/moe/fused_moe_triton/layer.py:192-202, as
  `serving.serving_api` cites them); other splits: ASSUMPTION (recalled: `moe_tp_size = tp_size // ep_size`);
- vLLM: data-parallel attention runs its MoE layers either expert-parallel over every DP x TP rank
  (`--enable-expert-parallel`, EP d: the wide-EP layout) or tensor-parallel over all of them (EP 1, MoE TP d); no
  split between (recalled: `FusedMoEParallelConfig.make` flattens TP across DP, ASSUMPTION: the source is not
  readable here; its measured rows are EP = DP x TP only), so only m = d is tried there
  (`deployment.moe_tp_refusal` says why the others are not; `serve` refuses them with it).
MoE-TP layouts lose ties to wide EP of the same attention DP (`replica_search.option_rank`): MoE TP is chosen only
where it saves accelerators.

The prefill pool's own layouts of the disaggregated options (`own_pair`, `own_prefill`) were `serving.capacity_pairs`
until hR62 merged them in (moves only: the same question, which layouts the search tries); its docstring follows.

Disaggregated `serve-plan` options whose prefill pool has a layout of its own (hY53).

The search's disaggregated option splits one layout into two pools (`serving.capacity`); here, for an MoE model
at PP 1, the prefill pool also gets each other layout of the same accelerators a replica g that `serve --prefill-tp /
--prefill-attention-dp / --prefill-ep` builds (`disaggregated.split_pools`), as the README's DeepSeek-V3 `serve`
example runs a TP8 prefill worker beside a wide-EP decode worker (pools of different layouts as deployed:
`serving.disaggregated`'s module docstring, citing the DeepSeek-V3 technical report sec. 3.4 and NVIDIA
AIConfigurator's disaggregated sample):
- TP g with EP 1: each expert's FFN split over the g GPUs of the TP group (MoE TP g in effect), attention TP g;
- attention DP g with EP g (wide EP), where the stack's engine builds it (the refusals `capacity` applies);
- attention DP g with MoE TP m (EP g / m), for the m the decode side's enumerator tries over g attention-DP ranks
  (`moe_tp_degrees`, which leaves out the splits the engine refuses, `deployment.moe_tp_refusal`:
  vLLM's all or none), as `serve --prefill-attention-dp g --prefill-moe-tp m` builds it (hY54). Last, so that among
  options of equal accelerators a MoE-TP prefill pool is chosen after the others (`replica_search.option_rank` sorts
  stably): as on the decode side, MoE TP only where it saves accelerators.
Less the decode layout's own (its one-layout pair is searched already). The same g, so an option's accelerators
are its replicas x g, as `replica_search` counts them (a prefill layout of another size is not searched).
Not searched: a prefill batch cap other than the decode pool's; a pipeline (PP > 1) pair.

The prefill pool is `split_pools`'s (the decode pool's dtype, KV dtype, batch cap and stack, no drafts), its token
budget a given --token-budget, else the stack's on its own attention DP (`prefill_budget`, hG73: it was the decode
pool's, so with SGLang's chunk // dp_size a TP8 prefill pool beside an attention-DP 8 decode pool ran 2,048 tokens an
iteration on B200, not its 16,384, and an attention-DP 8 one beside a TP8 decode pool 16,384, not 2,048;
`serve_command` names it with --prefill-token-budget where it differs); its probes' hand-off floor is priced on the
decode pool's cost (`Candidate.paired`), and its whole run is `serve`'s (`simulate_disaggregated` of the same pair),
so the answer's `serve_command` (with the --prefill-* flags) reruns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.serving.capacity_candidate import Candidate, candidate_for, shortest_sequence
from infraplan.serving.capacity_space import wide_ep_degrees
from infraplan.serving.deployment import build_refusal, format_gap, formats_run, moe_tp_refusal, other_stacks
from infraplan.serving.disaggregated import DisaggregatedDeployment, PrefillLayout, split_pools
from infraplan.serving.engines import ServingEngine, deployed_budget, load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.raised_budget import iteration_batch
from infraplan.serving.serving_sim import fit_check
from infraplan.serving.workloads import Requests

Layout = tuple[int, int, int, int]  # (TP, attention DP, MoE TP, batch cap); EP = attention DP x TP / MoE TP


def runnable_formats(acc: Accelerator, stack: str | ServingEngine,
                     dtypes: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the asked `dtypes` the accelerator and serving stack run, a "dtype: why not" line for each other), by
    `deployment.format_gap`: int4 / mxfp4 run weight-only on any part."""
    gaps = [(d, format_gap(acc, d, stack)) for d in dtypes]
    return [d for d, gap in gaps if not gap], [f"{d}: {gap}" for d, gap in gaps if gap]


def weight_kinds(acc: Accelerator, stack: ServingEngine, dtypes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The asked `dtypes` the accelerator and serving stack run, and a `rejected` line for each other; InputError,
    one line, where none runs (module docstring)."""
    kinds, unsupported = runnable_formats(acc, stack, dtypes)
    if not kinds:  # was "no deployment within N accelerators meets the SLOs", the search having tried nothing
        also = "".join(f", {d}" for d in formats_run(acc, stack))
        engine_gaps = [gap for gap in unsupported if f"{acc.name} has no" not in gap]  # mxfp8 on vLLM
        reason = "; ".join(engine_gaps) if engine_gaps else "no support in its catalog file"
        by_runs: dict[tuple[str, ...], list[str]] = {}  # the other stacks, by the asked formats each runs there
        for name in other_stacks(acc, stack):
            if runs := tuple(d for d in dtypes if not format_gap(acc, d, name)):
                by_runs.setdefault(runs, []).append(name)
        others = "".join(f"; or --stack {' or '.join(names)}, which {'runs' if len(names) == 1 else 'run'} "
                         f"{', '.join(runs)} on {acc.name}" for runs, names in by_runs.items())
        raise InputError(f"--dtypes {','.join(dtypes)}: {acc.name} runs none of them ({reason}); use bf16{also}, "
                         f"or the weight-only int4 or mxfp4, as `serve` says{others}")
    return kinds, unsupported


def moe_tp_degrees(shape: TransformerShape, adp: int, engine: str | None = None) -> list[int]:
    """The MoE-TP degrees m tried over `adp` attention-DP ranks of TP 1: powers of two 2..adp dividing the expert
    width (as `check_deployment` requires) that `engine` builds (`deployment.moe_tp_refusal`: vLLM's all or none;
    None: any split). The decode layouts' (`level_layouts`) and the prefill pools' (`capacity_layouts`) one list."""
    if not shape.is_moe or adp < 2:
        return []
    return [m for m in (1 << k for k in range(1, adp.bit_length())) if adp % m == 0
            and shape.ffn_hidden_size % m == 0 and not moe_tp_refusal(engine, adp, 1, m)]


def level_layouts(shape: TransformerShape, acc: Accelerator, domain: int, dtype: str, kv: str, budget: int,
                  caps: list[int], tps: list[int], pp: int, stack: str, engine: str | None,
                  sample: Requests | None = None, drafts: int = 0) -> list[Layout]:
    """The layouts tried at PP `pp` in `dtype` (module docstring): TP first, then (MoE, PP 1) wide EP, then MoE TP;
    `sample`: the search's requests, whose shortest sizes a window model's KV pool as in every candidate
    (`capacity_candidate.Candidate`; `wide_ep_degrees`); a wide-EP degree's room sized at the batch an iteration
    runs at cap c and the token budget `budget` with `drafts` draft tokens, as the candidate is
    (`raised_budget.iteration_batch`; hS77: at the cap and a budget of it, TensorRT-LLM's 16,384 for 8,192 run)."""
    layouts = [(t, 1, 1, c) for t in tps for c in caps]
    if pp != 1:
        return layouts
    shortest = shortest_sequence(sample) if sample is not None else 0
    runs = {c: iteration_batch(engine or "", c, budget, None, drafts) for c in caps}
    wide = [(1, d, 1, c) for c in caps for d in wide_ep_degrees(shape, acc, domain, dtype, kv, deployed_budget(
        engine or "", budget, runs[c]), runs[c], stack, shortest)]
    return layouts + wide + [(1, d, m, c) for (_, d, _, c) in wide for m in moe_tp_degrees(shape, d, engine)]


def layout_text(tp: int, pp: int, adp: int, ep: int, moe_tp: int) -> str:
    """A layout as `rejected` lines name it: TP, PP, and attention DP with its EP and MoE TP."""
    if adp <= 1:
        return f"TP{tp} PP{pp}"
    return f"TP{tp} PP{pp} DP-attention{adp} EP{ep}" + (f" MoE-TP{moe_tp}" if moe_tp > 1 else "")


OWN_PREFILL_LAYOUTS = True  # search prefill pools of a layout of their own (module docstring); False: as before
OWN_PREFILL_MOE_TP = True  # among them attention DP x MoE TP prefill pools (hY54); False: session 53's layouts


def prefill_layouts(shape: TransformerShape, dep: Deployment) -> list[PrefillLayout]:
    """The prefill layouts of `dep`'s accelerators a replica paired with a decode pool of `dep` (module docstring)."""
    g = dep.gpus_per_replica
    if not (OWN_PREFILL_LAYOUTS and shape.is_moe and dep.pp == 1):
        return []
    layouts = []
    if dep.attention_dp > 1:  # a wide-EP or MoE-TP decode pool: a TP prefill worker
        layouts.append(PrefillLayout(tp=g, pp=1, ep=1, attention_dp=1, max_batch=dep.max_batch))
    if g > 1 and (dep.attention_dp == 1 or dep.moe_tp > 1):  # a TP or MoE-TP decode pool: a wide-EP prefill worker
        layouts.append(PrefillLayout(tp=1, pp=1, ep=g, attention_dp=g, max_batch=dep.max_batch))
    if OWN_PREFILL_MOE_TP:  # attention DP g x MoE TP m, but the decode pool's own (hY54)
        layouts += [PrefillLayout(tp=1, pp=1, ep=g // m, attention_dp=g, max_batch=dep.max_batch, moe_tp=m)
                    for m in moe_tp_degrees(shape, g, dep.engine)
                    if (dep.tp, dep.attention_dp, dep.moe_tp) != (1, g, m)]
    return layouts


def prefill_budget(acc: Accelerator, dep: Deployment, layout: PrefillLayout, given: int | None) -> int:
    """One prefill rank's token budget in `layout` beside the decode pool `dep`: `given` (serve-plan's --token-budget,
    both pools'), else the stack's default on the layout's attention DP, as `serve` sets it (module docstring)."""
    return load_engine(dep.stack).budget_of(given, acc.memory_bytes, layout.attention_dp or 1)


def own_prefill(shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment, decode: Candidate,
                sample: Requests, given: int | None = None) -> list[tuple[dict[str, Any], Candidate]]:
    """Each prefill layout (`prefill_layouts`) the engine builds and whose KV cache holds the sample: the option's
    fields naming it and the prefill candidate, paired with the decode candidate `decode` (`Candidate.paired`);
    `given`: a --token-budget (`prefill_budget`)."""
    found = []
    for layout in prefill_layouts(shape, dep):
        try:
            pre = split_pools(shape, acc, dep, dep.gpus_per_replica, layout,
                              prefill_budget(acc, dep, layout, given)).prefill
        except InputError:
            continue
        if build_refusal(shape, pre):
            continue
        cand = candidate_for(shape, acc, fabric, replace(pre, replicas=1), sample)
        if fit_check(shape, cand.cap, cand.dep, sample, acc):
            continue
        found.append(({"prefill_tp": pre.tp, "prefill_attention_dp": pre.attention_dp, "prefill_ep": pre.ep,
                       "prefill_moe_tp": pre.moe_tp}, cand.paired(decode)))
    return found


def own_pair(shape: TransformerShape, acc: Accelerator, dep: Deployment, option: dict[str, Any],
             given: int | None = None) -> DisaggregatedDeployment | None:
    """The option's pair as `serve --prefill-gpus --prefill-tp --prefill-attention-dp --prefill-ep --prefill-moe-tp
    --prefill-token-budget` builds it, `dep` its decode pool (replicas set); None for an option without a prefill
    layout of its own. `given`: a --token-budget (`prefill_budget`)."""
    if option.get("prefill_tp") is None:
        return None
    layout = PrefillLayout(tp=option["prefill_tp"], pp=1, ep=option["prefill_ep"],
                           attention_dp=option["prefill_attention_dp"], max_batch=dep.max_batch,
                           moe_tp=option.get("prefill_moe_tp", 1))
    return split_pools(shape, acc, dep, option["prefill_replicas"] * dep.gpus_per_replica, layout,
                       prefill_budget(acc, dep, layout, given))
