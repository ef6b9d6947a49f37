"""What a training answer assumes about an MoE model's routing and its MTP modules, said in its notes.

* Routing: the stack's `moe` block (`catalog.stacks.MoeRouting`) paces the busiest EP rank's expert GEMMs, its
  all-to-all and its saved expert activations at `load_factor` times the mean tokens. Its default, 1.0, is
  Megatron-Core's forced load balancing (`moe_router_force_load_balancing`, random router logits, as the NeMo /
  Megatron-Bridge MoE performance recipes run; `training.expert_counts`), not a learned router's spread; the note says
  so and names the fields that change it (`load_imbalance`, e.g. 1.25, Switch Transformer's capacity headroom,
  Fedus et al. 2022 arXiv:2101.03961 sec. 2.2; `capacity_factor`, token dropping). A stack whose own router is not
  forced balancing says what it assumes instead (`balanced_routing_note`: HAI-LLM, DeepSeek-V3's auxiliary-loss-free
  bias routing, priced at the mean tokens as no per-rank load is published for it).
* EP placement: an EP group (`PlanArrays.ep_stride` apart) that `training.expert_dispatch.ep_domains` prices over
  more than one scale-up domain (a group wider than the domain, or a block of ranks that crosses a domain edge in
  a placed job, `network.fabric.group_domain`) sends (n - d) / n of each rank's all-to-all over the scale-out NICs.
* MTP: a stack's `mtp_num_layers` modules are timed on the last pipeline stage, or where its layout puts them
  (`training.pipeline_layout`), and held in the memory per GPU of the stage that runs them (`training.memory`:
  weights, gradients, optimizer state, activations and the second loss's logits): nothing left out to say.
* A search says what `train` says of its best plan beside its own notes (hU39: a search's notes held only the
  accelerator's figures while `train` of the same plan named the stack's model recipe, the job's rank placement and
  the MoE routing): `search_notes` the recipe and placement, `plan_notes.train_plan_notes` the rest, `moe_notes`
  among them (for an MoE job over several scale-up domains whether the best plan's EP group stays inside one or
  where it crosses), each line from one source (hD77: both said the MoE lines, a search de-duplicated them).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_note
from infraplan.catalog.schemas import Node
from infraplan.catalog.stacks import Stack
from infraplan.cluster.deepep import ep_node_copies, slowest_spans
from infraplan.network.collectives import Fabric
from infraplan.network.placement import placement_notes
from infraplan.training.expert_dispatch import ep_domains, with_flex_dispatcher
from infraplan.training.hybrid_shard import SEARCH_NOTE as HYBRID_SHARD_SEARCH_NOTE

__all__ = ["moe_notes", "search_notes"]


def moe_notes(shape: TransformerShape, stack: Stack, fabric: Fabric, ep: int, ep_stride: int,
              gpus: int, device: str = "GPU") -> list[str]:
    """The routing assumption of an MoE model's plan and where its EP all-to-all runs: where it leaves the scale-up
    domain, or, in a job of `gpus` over several domains, that the group stays inside one (a dense model: []). `train`
    and `search` (of its best plan) say the same (hV41: `train` of search's best NVL72 plan lacked the second).
    `device`: what the notes call one device (`Accelerator.device_word`: "domains of 8 GPUs" on an ASIC, hU50)."""
    if not shape.is_moe:
        return []
    moe = stack.moe
    if moe.capacity_factor is not None:
        routing = (f"MoE token dropping (stack {stack.name} moe.capacity_factor {moe.capacity_factor:g}): every "
                   f"expert's buffer padded to {moe.capacity_factor:g}x the mean tokens, its GEMMs, all-to-all and "
                   "saved activations priced at that; the tokens beyond it are dropped")
    elif moe.load_imbalance != 1.0:
        routing = (f"MoE routing: the busiest EP rank receives {moe.load_imbalance:g}x the mean tokens (stack "
                   f"{stack.name} moe.load_imbalance), its expert GEMMs, all-to-all and saved activations priced at "
                   "that")
    elif moe.balanced_routing_note:  # the stack's own router, in its file's words (HAI-LLM's bias routing)
        routing = moe.balanced_routing_note
    else:
        routing = ("MoE routing priced force-balanced (Megatron-Core moe_router_force_load_balancing, as NeMo's MoE "
                   "benchmarks run: each rank the mean tokens): a learned router's busiest rank takes more; set "
                   "moe.load_imbalance (e.g. 1.25) or moe.capacity_factor (token dropping) in a stack YAML (--stack)")
    notes = [routing]
    n, per_domain, domains = (float(x) for x in ep_domains(fabric, ep, ep_stride))
    peers = f"peers {ep_stride} rank{'' if ep_stride == 1 else 's'} apart"
    block, unit = ep * ep_stride, fabric.placement_unit
    deepep = domains > 1.0 and (stack.moe.dispatcher == "deepep"
                                or with_flex_dispatcher(stack, fabric.accelerator).moe.flex_backend is not None)
    nccl = (f"{(n - per_domain) / n:.0%} of each rank's all-to-all crosses the scale-out network" if not deepep else
            deepep_clause(shape, stack, fabric, ep, ep_stride))  # (a token a domain, not the NCCL share: hE2 76)
    if domains > 1.0 and unit and block % unit and unit % block:  # (hF57: a block across an edge, not N domains)
        notes.append(f"EP {ep} ({peers}): its blocks of {block:,} ranks do not divide the {unit}-{device} placement "
                     f"unit, so some groups cross a scale-up domain edge" + (
                         f"; {nccl}" if deepep else
                         f" with {per_domain:g} of their ranks on one side; priced at that group, as {domains:g} "
                         f"domains of {per_domain:g} ranks: {nccl} (network.placement)"))
    elif domains > 1.0:
        notes.append(f"EP {ep} ({peers}) is priced over {domains:g} scale-up domains of "
                     f"{fabric.scale_up_domain} {device}s, {per_domain:g} of its ranks in each: {nccl}")
    elif ep > 1 and gpus > fabric.scale_up_domain:
        notes.append(f"EP {ep} ({peers}) lies inside one {fabric.scale_up_domain}-{device} scale-up "
                     "domain, its all-to-all on the scale-up links: an EP group over N domains is priced with "
                     "(N - 1) / N of each rank's all-to-all on the slower scale-out NICs "
                     "(training.expert_dispatch.ep_domains)")
    return notes


def deepep_clause(shape: TransformerShape, stack: Stack, fabric: Fabric, ep: int, ep_stride: int) -> str:
    """What the DeepEP path (a `dispatcher: deepep` stack, or a flex backend kept on this accelerator) prices of an
    EP group over several domains: a token sent once per domain it reaches, over the domains the slowest group
    really spans (`cluster.deepep.ep_node_copies`; hE2 76: the gcd's "8 domains of 4" is NCCL's share only)."""
    reached, nodes = (float(x) for x in ep_node_copies(shape, fabric, ep, ep_stride))
    spans = slowest_spans(shape, fabric, ep, ep_stride)
    lies = f", priced at its slowest group as it lies, {' | '.join(map(str, spans))} ranks" if spans else ""
    kernels = {"deepep": "DeepEP", "hybridep": "HybridEP"}.get(str(stack.moe.flex_backend), "DeepEP")
    return (f"{kernels}'s kernels (stack {stack.name}) send a token once per domain it reaches{lies}: a token reaches "
            f"{reached:.2f} of its {nodes:g} domains, at DeepEP's published RDMA rate (cluster.deepep.ep_node_copies)")


def search_notes(shape: TransformerShape, stack: Stack, fabric: Fabric, node: Node, gpus: int,
                 planned: bool) -> list[str]:
    """What a search says of its job beside `train`'s notes of its best plan (`plan_notes.train_plan_notes` own the
    MoE routing, EP span and MTP, `moe_notes`, and a precision with no published recipe: hD77, each line one home):
    the stack's model recipe and the rank placement, said with or without a plan (`planned`: one fits), and for a
    dense job over several scale-up domains, on a stack that runs hybrid sharding, that it was not searched."""
    notes = [n for n in (recipe_note(stack),) if n] + placement_notes(node, gpus)
    if planned and stack.zero_shard_stages and not shape.is_moe and gpus > fabric.scale_up_domain:  # (DP across)
        notes.append(HYBRID_SHARD_SEARCH_NOTE)  # hybrid sharding the stack runs: not searched (`hybrid_shard`)
    return notes
