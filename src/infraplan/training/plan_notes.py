"""What a one-plan training answer says about its plan, rather than leave it silent: what the plan asks that
`search` would not propose (TP beyond one scale-up domain, priced over the scale-out network; a sequence beyond the
model's `max_position_embeddings`, a context-extension run: `request_notes`) and what it means under its stack
(`stack_plan_notes`: the MoE routing, EP span and MTP, `training.moe_notes`; a schedule the stack lacks,
`schedules`; a ZeRO stage, CP or precision it does not run, `stack_limits`; a precision with no published recipe,
`catalog.training_precisions`; fp8 attention not run, `fp8_dpa`; the optimizer, `optimizers`; an attention kernel
the part has no rate for and DeepSeek-V3.2's sparse stage, `attention_core`; its stack's DSA, `sparse_attention_rules`).
`estimate.resolve_training` asks both, and `placed_plan_notes` for the rest of its notes (the job's placement and
crossing, the stack's, the part's figures, CollNet), kept: none of them reads the plan's sequence length or batch.
Moved out of `training.estimate` unchanged (hO, session 60).
"""

from __future__ import annotations

from infraplan.catalog.figures import figures_notes
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.catalog.training_precisions import unpublished_recipe_notes
from infraplan.cluster import Cluster
from infraplan.cluster.generic import generic_part_notes
from infraplan.identity_memo import IdentityMemo
from infraplan.network import fabric as network_fabric
from infraplan.network.placement import placement_notes
from infraplan.network.tier_bandwidth import job_crossing_notes
from infraplan.training.attention_core import attention_kernel_notes, sparse_attention_notes
from infraplan.training.collnet import sharp_note, stack_collnet_notes
from infraplan.training.enums import Dtype
from infraplan.training.fp8_dpa import unrun_dpa_notes
from infraplan.training.moe_notes import moe_notes
from infraplan.training.optimizers import optimizer_notes
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.schedules import stack_schedule_notes
from infraplan.training.sparse_attention_rules import sparse_attention_stack_notes
from infraplan.training.stack_limits import default_stack_notes, stack_dtype_notes, stack_limit_notes
from infraplan.training.state_memory import lone_shard_notes


def request_notes(shape: TransformerShape, scale_up_domain: int, tp: int, seq_len: int) -> list[str]:
    """What a plan asks that `search` would not propose, said rather than silent: TP beyond one scale-up domain
    (priced over the scale-out network), a sequence beyond the model's positions (context extension)."""
    notes = []
    if tp > scale_up_domain:
        notes.append(f"TP {tp} spans {-(-tp // scale_up_domain)} scale-up domains of {scale_up_domain} GPUs: its "
                     "collectives cross the scale-out network (search proposes this only with --cross-node-tp)")
    if seq_len > shape.max_seq_len:
        notes.append(f"--seq-len {seq_len} exceeds {shape.name}'s {shape.max_seq_len} positions "
                     "(max_position_embeddings): a context-extension run")
    return notes


def tp_crossing_notes(tp: int, unit: int, domain: int, device: str = "GPU", cp: int = 1) -> list[str]:
    """A line for each inner group, TP (`tp` consecutive ranks: TP is innermost in every rank order) and CP (`cp`
    ranks `tp` apart, a block of TP x CP), whose block fits a scale-up domain but does not divide the job's placement
    unit `unit` (`Cluster.placed`: 0 for a job inside one domain), so some group crosses a domain edge, which the
    pricing takes as the slowest group (`network.fabric.placed_domain`, the one rule `group_domain` prices by:
    gcd(unit, block) of the block on one side, floor(that / stride) members a domain); TP beyond the domain is
    `request_notes`', a CP group whose TP group already crosses is left to the TP line. hW76: megatron-145.6b TP 6
    on 96 H100 (8-GPU nodes) priced its TP collectives at 0.477 s a step against TP 4's 0.093; llama3-8b TP 2 CP 3 on
    48 its CP ring at 0.150 s against CP 4's 0.046; both unsaid. `search` says it of its best plan."""
    notes = []
    for name, n, stride in (("TP", tp, 1), ("CP", cp, tp)):
        block = n * stride
        if n <= 1 or block > domain:
            continue
        placed = network_fabric.placed_domain(unit, block, domain)  # the pricing's D_g (`group_domain`)
        per = placed // stride  # the group's members on the smaller side of the edge
        if block <= placed or per < 1:  # every group inside one domain; a side of less than one: the TP line's
            continue
        apart = "" if stride == 1 else f" ({stride} ranks apart)"
        notes.append(f"{name} {n}{apart}: its blocks of {block} ranks do not divide the {unit}-{device} placement "
                     f"unit, so some {name} groups cross a scale-up domain edge with {per} of their ranks on one side; "
                     f"priced at that group, as {-(-n // per)} domains of {per} rank{'' if per == 1 else 's'}, its "
                     f"collectives over the scale-out network (network.placement): a block dividing {unit} keeps "
                     "every group inside one domain")
    return notes


def train_plan_notes(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> list[str]:
    """What `train` says of a one-element plan `plan` (the first row of any) that reads the plan: `request_notes`,
    `tp_crossing_notes` and `stack_plan_notes`, as `estimate.resolve_training` says them. `search` says them of its
    best plan (hL76: its context-extension line, Muon's and DeepSeek Sparse Attention's were unsaid)."""
    row = plan.one_row if plan.is_one else plan.take([0]).one_row
    domain = cluster.system.node.scale_up_domain
    return [*request_notes(shape, domain, int(row.tp), int(row.seq_len)),
            *tp_crossing_notes(int(row.tp), cluster.fabric.placement_unit, domain, cluster.accelerator.device_word,
                               int(row.cp)),
            *stack_plan_notes(shape, profile, cluster, plan, int(row.pp), str(Dtype.from_code(int(row.dtype))))]


def stack_plan_notes(shape: TransformerShape, profile: Stack, cluster: Cluster, plan: PlanArrays, pp: int,
                     dtype: str) -> list[str]:
    """What a resolved one-plan answer says about its plan under its stack: the MoE routing, EP span and MTP
    (`moe_notes`), a schedule the stack lacks, a ZeRO stage or CP it does not run, a precision it does not train
    in. `resolve_training` asks this (for `estimate_training` and the sweep's batched `train`)."""
    # (the plan's own ints: its `one_row`, without building its one-element arrays)
    fields = plan.one_row if plan.is_one else plan.take([0]).one_row
    return [*moe_notes(shape, profile, cluster.fabric, int(fields.ep), int(fields.ep_stride),  # routing, EP, MTP
                       int(fields.gpus), cluster.accelerator.device_word),
            *stack_schedule_notes(profile, int(fields.schedule), pp),  # a schedule the stack lacks
            *stack_limit_notes(profile, pp, int(fields.zero), int(fields.cp), int(fields.tp), int(fields.ep)),
            *lone_shard_notes(shape, plan, profile, int(fields.zero)),  # ZeRO-3's shards of one rank, not gathered
            *stack_dtype_notes(profile, dtype),  # a precision the stack does not train in
            *unpublished_recipe_notes(dtype, shape.is_moe),  # a precision with no published recipe for the class
            *unrun_dpa_notes(profile, dtype),  # the stack's fp8 attention, not run in this precision / recipe
            *optimizer_notes(profile, int(fields.zero)),  # Muon: what is priced, not priced, refused
            *attention_kernel_notes(profile, cluster.accelerator),  # a kernel the part has no rate for
            *sparse_attention_notes(shape, cluster.accelerator),  # DeepSeek-V3.2: the sparse training stage priced
            *sparse_attention_stack_notes(profile, shape, int(fields.cp))]  # ... its stack's DSA, at CP > 1


def prices_collectives(plan: PlanArrays) -> bool:
    """Whether a one-element plan prices a collective: a TP, CP, DP or EP group above one rank (pipeline stages alone
    send point to point); `catalog.figures.figures_notes` names borrowed collective curves only then (hC51)."""
    row = plan.one_row
    return bool(row.tp * row.cp * row.dp > 1) or bool(row.ep > 1)


def placed_plan_notes(shape: TransformerShape, profile: Stack, cluster: Cluster, plan: PlanArrays, pp: int,
                      dtype: str, gpus: int, asked: object, zero: int, sharp: bool) -> tuple[str, ...]:
    """`resolve_training`'s notes after `request_notes`, in its order: the job's placement and the links it crosses,
    `stack_plan_notes`, the default stack on another vendor's part (`asked`: the stack asked for, None: none), the
    part's figures, a generic part's, SHARP (`sharp`) or the stack's CollNet at ZeRO `zero`. Kept by the cluster's,
    stack's and model's identity and the plan's fields but its sequence length (a single estimate of a plan never
    seen asks again at each length; none of these reads it, nor the batch, which the key holds all the same), so
    one answer either way; `forget_placed_plan_notes` empties the memo (`clear_one_plan_memo`)."""
    row_key = plan.row_key
    key = (row_key[:_SEQ_LEN] + row_key[_SEQ_LEN + 1:], pp, dtype, gpus, asked is None, zero, sharp)
    kept = _PLACED_NOTES.get(cluster, key)
    if kept is not None and kept[0] is shape and kept[1] is profile:
        return kept[2]
    system, accelerator = cluster.system, cluster.accelerator
    notes = (*placement_notes(system.node, gpus),
             *job_crossing_notes(system, gpus),  # NICs slower or faster than the leaf ports, once
             *stack_plan_notes(shape, profile, cluster, plan, pp, dtype),
             *default_stack_notes(asked, profile, accelerator.name, accelerator.vendor),  # NVIDIA's, on another
             # SECONDARY / PRELIMINARY figures, a part for other work; borrowed collective curves where it prices one
             *figures_notes(accelerator, "training", collectives=prices_collectives(plan)),
             *(generic_part_notes(accelerator, host=False, node=True) if cluster.generic else ()),  # no host priced
             *((sharp_note(zero, profile.grad_reduce_all_reduce),) if sharp
               else stack_collnet_notes(profile, cluster, zero)))
    return _PLACED_NOTES.put(cluster, key, (shape, profile, notes))[2]


def forget_placed_plan_notes() -> None:
    """Forget every kept `placed_plan_notes` answer (tests that patch a note's rule between estimates)."""
    _PLACED_NOTES.clear()


_SEQ_LEN = PLAN_FIELDS.index("seq_len")
# (cluster by identity; key: the plan's fields but its sequence length, and the other inputs) -> (model, stack,
# notes): the entry holds the cluster, model and stack, so none of their ids is reused while it is kept
_PLACED_NOTES: IdentityMemo[tuple[TransformerShape, Stack, tuple[str, ...]]] = IdentityMemo(256)
