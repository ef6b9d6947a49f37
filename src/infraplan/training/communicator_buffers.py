"""NCCL communicator buffers per GPU, and the memory headroom a training plan leaves on its accelerator.

What is modelled: each process group a rank communicates in is one NCCL communicator (PyTorch's ProcessGroupNCCL
creates it on the group's first collective), and each communicator holds, per channel and per peer connection, a
staging buffer of NCCL_BUFFSIZE bytes for its SIMPLE protocol. The groups are the plan's:
- collectives on a ring (one buffer a channel: each of a rank's two ring connections per channel keeps its buffer
  at one end, so a rank hosts one on average: ASSUMPTION), `COLLECTIVE_CHANNELS` channels: TP (all-reduce / all-gather /
  reduce-scatter), the dense parameters' data-parallel group over DP x CP and, for an MoE model, the experts'
  data-parallel group (`stage_params.dp_groups`: megatron-core 0.16.1 builds the DDP buffers on `intra_dp_cp_group`
  and `intra_expt_dp_group`), and, under hybrid sharding, the replica group across the shards;
- point-to-point peers (one buffer a peer connection, `P2P_CHANNELS_PER_PEER` channels each): EP's all-to-all with
  each of the other EP - 1 ranks, PP's send / recv with the previous and next stage (one peer at PP 2, both ends
  of a ring schedule's wrap included), CP's ring exchange of K / V with its two neighbours (Transformer Engine's
  `cp_comm_type` p2p; one peer at CP 2).
Figures (each an upper bound, or a lower bound, as said):
- NCCL_BUFFSIZE 4 MiB: the NCCL user guide, "Environment Variables", NCCL_BUFFSIZE ("default is 4194304 (4 MiB)";
  from memory: the nvidia-nccl-cu12 wheel ships headers only). Lower bound per connection: the LL and LL128
  protocols' own buffers are not counted.
- 32 channels per collective communicator: the most NCCL runs one on, NCCL's default max_ctas on Hopper (one CTA a
  channel): megatron-core 0.16.1 parallel_state.py:159-161 ("The default values for Hopper GPUs are as follows:
  cga_cluster_size = 4, max_ctas = 32, min_ctas = 1"). Upper bound: NCCL picks fewer on some topologies. Other
  generations on the same figure: ASSUMPTION (the comment says their defaults may differ).
- 2 channels per point-to-point peer: NCCL user guide, NCCL_NCHANNELS_PER_NET_PEER ("default 2"; from memory).
  Lower bound over NVLink, where NCCL may give a peer more.
Not priced: NVLS (NVLink SHARP) buffers (Megatron-Bridge 0.6.0 recipes/utils/environment_utils.py:26-27 set
NCCL_NVLS_ENABLE 0 in every recipe), NCCL user-buffer registration (the same file: off), the tied embedding's
two-rank group. The CUDA context and the cuBLAS / Transformer Engine workspaces (TE 2.14
pytorch/cpp_extensions/gemm.py:33-38: 32 MiB + 1 KiB a workspace on Hopper and later) stay in the lump
`ops.params.RUNTIME_RESERVE_BYTES` (1.5 GB, unsourced), which `memory.memory_breakdown`'s overhead term adds these
buffers to. Does the lump's "~1 GB" of NCCL and cuBLAS workspaces (ops/params.py's comment) count these buffers twice?
Not shown, so kept (hZ47, session 45). NVIDIA AIConfigurator 0.12.0 systems/h100_sxm.yaml:23-29 budgets a
TensorRT-LLM replica's NCCL at 342 MiB (TP 2) and 392 MiB (TP 4-8), "based on observations": one communicator, 2.7-3.1x
the 128 MiB of SIMPLE buffers counted here for it (the LL / LL128 protocols' buffers and NCCL's other allocations
are the rest), and its CUDA context, cuBLAS and the rest at 551 MB before padding that to 3.5 GiB ("for safer
deployment"); the cuBLAS workspaces are tens of MiB (TE above; torchtitan 0.3.0 distributed/utils.py:213 sets
CUBLAS_WORKSPACE_CONFIG ":4096:8", 32 MiB, for deterministic runs). So the lump's ~0.5 GB context is AIC's 551 MB and
its ~1 GB stands for NCCL beyond these buffers (on AIC's ratio 1.7-2.1x them, 0.2-0.3 GB a ring communicator) and the
workspaces: over for a plan of one or two communicators, under for a wide EP's peers. Splitting it per communicator
needs the LL / LL128 buffer sizes from NCCL's source or a measurement (neither offline).

Headroom: HBM minus everything priced (`memory_headroom_flag`). The caching allocator's fragmentation has no
figure (PyTorch's CUDA-semantics notes, from memory, say only that `expandable_segments` reduces it; Megatron-Bridge
sets it in every recipe, environment_utils.py:28-29): a plan whose headroom is below a margin is flagged, not
refused.
ASSUMPTION: the default margin, `MEMORY_MARGIN_FRACTION` of HBM (`search --memory-margin`; `train` and the sweep
report against the default). Check on the validation cases (runs that happened on their hardware): the least headroom
any leaves is 6.0 % (Llama 3 405B on 8,192 H100, Llama 3 paper Table 4), so none is flagged at 5 %.
"""

from __future__ import annotations

from typing import Any

from infraplan.errors import InputError
from infraplan.scalar_path import larger, pick, smaller
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import dp_groups

NCCL_BUFFSIZE_BYTES = 4.0 * 2**20  # NCCL_BUFFSIZE default (NCCL user guide, environment variables)
COLLECTIVE_CHANNELS = 32.0  # NCCL's max_ctas on Hopper (megatron-core 0.16.1 parallel_state.py:159-161)
P2P_CHANNELS_PER_PEER = 2.0  # NCCL_NCHANNELS_PER_NET_PEER default (NCCL user guide)
# ASSUMPTION: headroom below this share of HBM is flagged (no published fragmentation figure; an input)
MEMORY_MARGIN_FRACTION = 0.05


def communicator_buffer_bytes(plan: PlanArrays, moe: bool) -> Any:
    """Bytes of NCCL SIMPLE-protocol buffers on one rank of each plan (element-wise; a `one_row`'s numbers give a
    float): `COLLECTIVE_CHANNELS` buffers for each ring communicator of more than one rank, `P2P_CHANNELS_PER_PEER`
    for each point-to-point peer (module docstring). `moe`: the model has routed experts (their data-parallel
    group and EP's all-to-all). A `one_row`'s are kept by what they read (its degrees and group strides, the
    figures above): plans that differ in nothing else (a sweep's sequence lengths) count them once (issue 18)."""
    if type(plan.tp) is int:  # type: ignore[comparison-overlap]  # one plan (`PlanArrays.one_row`): its ints
        key = (moe, plan.tp, plan.cp, plan.dp, plan.pp, plan.ep, plan.zero_shard, plan.dp_stride, plan.edp,
               plan.edp_stride, plan.experts_over_stage, NCCL_BUFFSIZE_BYTES, COLLECTIVE_CHANNELS,
               P2P_CHANNELS_PER_PEER)
        kept = _BUFFERS.get(key)
        if kept is None:
            if len(_BUFFERS) >= _BUFFERS_KEPT:
                _BUFFERS.clear()
            kept = _BUFFERS[key] = _buffer_bytes(plan, moe)
        return kept
    return _buffer_bytes(plan, moe)


def _buffer_bytes(plan: PlanArrays, moe: bool) -> Any:
    """`communicator_buffer_bytes` without the one-plan memo."""
    rings, peers = communicator_counts(plan, moe)
    return NCCL_BUFFSIZE_BYTES * (COLLECTIVE_CHANNELS * rings + P2P_CHANNELS_PER_PEER * peers)


_BUFFERS_KEPT = 4096
_BUFFERS: dict[tuple[Any, ...], Any] = {}  # one plan's buffer bytes by what they read (`communicator_buffer_bytes`)


def communicator_counts(plan: PlanArrays, moe: bool) -> tuple[Any, Any]:
    """(ring communicators, point-to-point peers) a rank of each plan communicates with: TP, the dense DP x CP group,
    the experts' data-parallel group (MoE), hybrid sharding's replica group; EP - 1 all-to-all peers, PP's and CP's
    neighbours (one at 2 ranks, two beyond)."""
    dense, _, experts, _ = dp_groups(plan)
    rings = _more_than_one(plan.tp) + _more_than_one(dense)
    whole = plan.dp * plan.cp
    rings = rings + _more_than_one(pick(plan.zero_shard > 0, whole // larger(plan.zero_shard, 1), 1))
    peers = _neighbours(plan.pp) + _neighbours(plan.cp)
    if moe:
        rings = rings + _more_than_one(experts)
        peers = peers + (plan.ep - 1)
    return rings, peers


def _more_than_one(ranks: Any) -> Any:
    """1 where a group has more than one rank, else 0 (a float, or floats)."""
    return pick(ranks > 1, 1.0, 0.0)


def _neighbours(ranks: Any) -> Any:
    """Peers of a ring exchange's rank: 0 alone, 1 of 2 ranks, 2 beyond."""
    return smaller(ranks - 1, 2) * 1.0


def memory_headroom_flag(memory_bytes: float, capacity_bytes: float, margin_fraction: float | None = None,
                         consequence: str = "") -> dict[str, object]:
    """The headroom fields of a plan priced at `memory_bytes` on an accelerator of `capacity_bytes`:
    `memory_headroom_bytes` (capacity - priced: negative where it does not fit), the margin in bytes, and the
    `low_memory_headroom` flag, True with its reason (then `consequence`, e.g. search's ranking) where the headroom
    is below the margin. `search` and the single estimate ask it alike."""
    margin_fraction = MEMORY_MARGIN_FRACTION if margin_fraction is None else margin_fraction
    headroom = capacity_bytes - memory_bytes
    margin = margin_fraction * capacity_bytes
    out: dict[str, object] = {"memory_headroom_bytes": headroom, "memory_margin_bytes": margin,
                              "low_memory_headroom": False, "low_memory_headroom_reason": None}
    if tight(memory_bytes, capacity_bytes, margin_fraction):
        reason = (f"{headroom / 2**30:.1f} GiB of {capacity_bytes / 2**30:.0f} GiB left after the priced memory, "
                  f"below the margin of {margin_fraction:.1%} ({margin / 2**30:.1f} GiB; ASSUMPTION, --memory-margin) "
                  "kept for the allocator's fragmentation and what is not priced")
        out.update(low_memory_headroom=True,
                   low_memory_headroom_reason=f"{reason}; {consequence}" if consequence else reason)
    return out


def tight(memory_bytes: Any, capacity_bytes: float, margin_fraction: float) -> Any:
    """Plans whose priced memory leaves less than the margin: memory above capacity x (1 - margin), element-wise
    (one expression for `memory_headroom_flag` and search's ranking, so a plan gets one answer either way)."""
    return memory_bytes > capacity_bytes * (1.0 - margin_fraction)


def check_memory_margin(margin_fraction: float | None) -> float:
    """The margin as a share of HBM (None: `MEMORY_MARGIN_FRACTION`); one line (`InputError`) outside [0, 1), and for
    a value that is no number (a sweep spec's `memory_margin: '0.1'` or `false`: a TypeError or 0 before, hI62)."""
    if margin_fraction is None:
        return MEMORY_MARGIN_FRACTION
    number = isinstance(margin_fraction, int | float) and not isinstance(margin_fraction, bool)
    if not number or not 0.0 <= margin_fraction < 1.0:
        raise InputError(f"--memory-margin is a share of the accelerator's memory in [0, 1), e.g. 0.05; got "
                         f"{margin_fraction!r}")
    return float(margin_fraction)
