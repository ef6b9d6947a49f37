"""Disaggregated `serve-plan` options whose prefill pool has a layout of its own (hY53).

The search's disaggregated option splits one layout into two pools (`serving.capacity`); here, for an MoE model
at PP 1, the prefill pool also gets each other layout of the same accelerators a replica g that `serve --prefill-tp /
--prefill-attention-dp / --prefill-ep` builds (`disaggregated.split_pools`), as the README's DeepSeek-V3 `serve`
example runs a TP8 prefill worker beside a wide-EP decode worker (pools of different layouts as deployed:
`serving.disaggregated`'s module docstring, citing the DeepSeek-V3 technical report sec. 3.4 and NVIDIA
AIConfigurator's disaggregated sample):
- TP g with EP 1: each expert's FFN split over the g GPUs of the TP group (MoE TP g in effect), attention TP g;
- attention DP g with EP g (wide EP), where the stack's engine builds it (the refusals `capacity` applies);
- attention DP g with MoE TP m (EP g / m), for the m the decode side's enumerator tries over g attention-DP ranks
  (`capacity_layouts.moe_tp_degrees`, which leaves out the splits the engine refuses, `deployment.moe_tp_refusal`:
  vLLM's all or none), as `serve --prefill-attention-dp g --prefill-moe-tp m` builds it (hY54). Last, so that among
  options of equal accelerators a MoE-TP prefill pool is chosen after the others (`replica_search.option_rank` sorts
  stably): as on the decode side, MoE TP only where it saves accelerators.
Less the decode layout's own (its one-layout pair is searched already). The same g, so an option's accelerators
are its replicas x g, as `replica_search` counts them (a prefill layout of another size is not searched).
Not searched: a prefill batch cap other than the decode pool's; a pipeline (PP > 1) pair.

The prefill pool is `split_pools`'s (the decode pool's dtype, KV dtype, batch cap, budget and stack, no drafts);
its probes' hand-off floor is priced on the decode pool's cost (`Candidate.paired`), and its whole run is `serve`'s
(`simulate_disaggregated` of the same pair), so the answer's `serve_command` (with the --prefill-* flags) reruns it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.serving.capacity_candidate import Candidate, candidate_for
from infraplan.serving.capacity_layouts import moe_tp_degrees
from infraplan.serving.deployment import build_refusal
from infraplan.serving.disaggregated import DisaggregatedDeployment, PrefillLayout, split_pools
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import fit_check
from infraplan.serving.workloads import Requests

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


def own_prefill(shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment, decode: Candidate,
                sample: Requests) -> list[tuple[dict[str, Any], Candidate]]:
    """Each prefill layout (`prefill_layouts`) the engine builds and whose KV cache holds the sample: the option's
    fields naming it and the prefill candidate, paired with the decode candidate `decode` (`Candidate.paired`)."""
    found = []
    for layout in prefill_layouts(shape, dep):
        try:
            pre = split_pools(shape, acc, dep, dep.gpus_per_replica, layout).prefill
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
             ) -> DisaggregatedDeployment | None:
    """The option's pair as `serve --prefill-gpus --prefill-tp --prefill-attention-dp --prefill-ep --prefill-moe-tp`
    builds it, `dep` its decode pool (replicas set); None for an option without a prefill layout of its own."""
    if option.get("prefill_tp") is None:
        return None
    layout = PrefillLayout(tp=option["prefill_tp"], pp=1, ep=option["prefill_ep"],
                           attention_dp=option["prefill_attention_dp"], max_batch=dep.max_batch,
                           moe_tp=option.get("prefill_moe_tp", 1))
    return split_pools(shape, acc, dep, option["prefill_replicas"] * dep.gpus_per_replica, layout)
