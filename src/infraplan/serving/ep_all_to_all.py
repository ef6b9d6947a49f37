"""How a wide-EP serving stack runs its expert all-to-all: fp8 dispatch and two-batch overlap.

`ops.layer` prices a MoE layer's dispatch + combine as two all-to-alls of the k routed bf16 copies of each token
(`serving.llm_iteration` sums them with the layer's compute). Engines built for wide expert parallelism run it
otherwise, each a flag of the stack's serving profile (no shipped profile sets either: the AIConfigurator rows ran
SGLang without DeepEP; `examples/stacks/sglang-deepep-tbo.yaml` is the LMSYS deployment's):

* `ep_fp8_dispatch` (toggle `EP_FP8_DISPATCH`): with fp8 weights the tokens are quantised before the dispatch, which
  moves 1 B an element plus a 4 B scale per 1x128 tile, and the combine stays bf16 (DeepSeek-V3 arXiv:2412.19437
  sec. 3.3.3; DeepEP README "FP8 dispatching, BF16 combining"; SGLang's DeepEP dispatcher quantises before
  `buffer.dispatch`, recalled): the pair's bytes x `ops.moe_routing.FP8_DISPATCH_PAIR_SHARE` (0.758), the share the
  training model applies to the same dispatch (`training.expert_dispatch`).
* `two_batch_overlap` (toggle `TWO_BATCH_OVERLAP`): each iteration's tokens run as two micro-batches, one's dispatch /
  combine while the other computes (DeepSeek-V3 report sec. 3.4.1 prefilling: "we simultaneously process two
  micro-batches with similar computational workloads, overlapping the attention and MoE of one micro-batch with the
  dispatch and combine of another", sec. 3.4.2 decoding likewise; DeepSeek's inference-system overview 2025-02-28,
  "dual micro-batch overlap"; SGLang `--enable-two-batch-overlap`, LMSYS blog 2025-05-05. Recalled, not re-read: the
  reports are not shipped). For M tokens the micro-batches of ceil(M / 2) and floor(M / 2) each cost their own
  compute c and all-to-all e (the tables over M), and the layer lasts max(c(ceil) + c(floor), e(ceil) + e(floor))
  plus the TP collectives (not overlapped); one token cannot split. The routed experts' part of the layer (what
  `serving.lockstep_loop` re-prices on the ranks' mean tokens) shrinks in the same ratio as the layer.

* `deepep_normal_kernels` (toggle `DEEPEP_NODE_COPIES`, hY session 52): the dispatch / combine of an EP group over
  more than one scale-up domain runs DeepEP's normal kernels, which send a token once per destination node over RDMA
  and forward it to that node's experts over NVLink, at the DeepEP README's internode rate for the nodes spanned
  (`cluster.deepep.flex_dispatch_seconds`, the training model's pricing of the same kernels, in cluster/ for both);
  inside one domain the all-to-all stays as priced. SGLang runs them on prefill batches (`--deepep-mode normal`, or
  `auto` on extend batches) and its low-latency kernels, one copy per routed expert as `ops.layer` counts, on
  decode batches (recalled); the iteration tables do not tell the two apart, so the flag is for a prefill-only
  engine (a disaggregated prefill server: `examples/stacks/sglang-deepep-prefill.yaml`).
* `ep_overlap_sms` (toggle `EP_OVERLAP_SMS`): under two-batch overlap the compute that hides an all-to-all runs on
  the SMs the communication kernels leave: the hidden seconds x f / (1 - f) are added to the compute, f = the
  kernels' SMs / the GPU's, as the training model charges its overlapped dispatch (`training.expert_dispatch.
  with_ep_comm`, `MoeRouting.overlap_sm_fraction`). DeepEP's normal kernels take `Buffer.num_sms` (20 by default,
  the README's example sets 24; recalled, not re-read); its low-latency kernels receive without SMs.

* An engine's own measured all-to-all (`serving.ep_alltoall_tables`, toggle `ENGINE_ALL_TO_ALL_TABLES`, hW67): inside
  an NVL72 domain TensorRT-LLM's EP all-to-all is its prepare + dispatch + combine from NVIDIA AIConfigurator's GB200
  table (`collective_seconds`); SGLang / vLLM, other parts and groups across domains keep NCCL's price.

ASSUMPTIONS: the halves are even; the SMs a kernel holds are its whole share of the GPU while it runs. Checked out of
sample (validation/notes/serving_hopper_moe_tried.md, "hO (session 52)" and "hY (session 52)"): LMSYS's 96-H100
and DeepSeek's H800 figures.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster.deepep import ep_domains, flex_dispatch_seconds
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Collective
from infraplan.ops.moe_routing import FP8_DISPATCH_PAIR_SHARE
from infraplan.serving import ep_alltoall_tables
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import serving_profile

TWO_BATCH_OVERLAP = True  # the stacks' `two_batch_overlap` priced (module docstring); False: never split
EP_FP8_DISPATCH = True  # the stacks' `ep_fp8_dispatch` priced (module docstring); False: bf16 both ways
DEEPEP_NODE_COPIES = True  # the stacks' `deepep_normal_kernels` priced (module docstring); False: per-expert copies
EP_OVERLAP_SMS = True  # the stacks' `ep_overlap_sms` priced under two-batch overlap (docstring); False: none


def overlaps(stack: str) -> bool:
    """Whether `stack`'s engine is priced with two-batch overlap: its serving profile's flag, with the toggle on."""
    profile = serving_profile(stack) if TWO_BATCH_OVERLAP else None
    return profile is not None and profile.two_batch_overlap


def dispatch_share(dep: Deployment) -> float:
    """Bytes of the deployment's dispatch + combine over two bf16 all-to-alls: `FP8_DISPATCH_PAIR_SHARE` where its
    stack dispatches fp8 and its weights are fp8, else 1."""
    profile = serving_profile(dep.stack) if EP_FP8_DISPATCH and dep.dtype == "fp8" else None
    return FP8_DISPATCH_PAIR_SHARE if profile is not None and profile.ep_fp8_dispatch else 1.0


def deepep_all_to_alls(shape: TransformerShape, fabric: Fabric, dep: Deployment,
                       collectives: tuple[Collective, ...]) -> tuple[Collective, ...]:
    """The layer's EP all-to-alls that DeepEP's normal kernels send (`cluster.deepep` prices them):
    those over more than one scale-up domain where the stack sets `deepep_normal_kernels` (module docstring); none
    otherwise, with the toggle off, or for a dense model."""
    profile = serving_profile(dep.stack) if DEEPEP_NODE_COPIES and shape.is_moe else None
    if profile is None or not profile.deepep_normal_kernels:
        return ()
    return tuple(c for c in collectives if c.role == "ep" and c.kind == "all_to_all"
                 and float(np.max(ep_domains(fabric, c.group, c.stride)[2])) > 1.0)


def collective_seconds(fabric: Fabric, dep: Deployment, c: Collective,
                       nccl: Callable[[Fabric, Collective], np.ndarray]) -> np.ndarray:
    """Seconds of one EP collective at the bytes the stack dispatches: an all-to-all the stack's engine runs from its
    own measured table inside the domain (`serving.ep_alltoall_tables`: the table's rows carry the dispatch's format),
    else `nccl`'s time for the two bf16 all-to-alls `ops.layer` counts x `dispatch_share`."""
    if ep_alltoall_tables.priced_by_table(fabric, c, dep.engine):
        return ep_alltoall_tables.all_to_all_seconds(fabric, c, dep.engine, dep.dtype)
    return nccl(fabric, c) * dispatch_share(dep)


def ep_seconds(shape: TransformerShape, fabric: Fabric, dep: Deployment, collectives: tuple[Collective, ...],
               nccl: Callable[[Fabric, Collective], np.ndarray], m: np.ndarray) -> np.ndarray:
    """Seconds of the layer's EP collectives for M = `m` tokens at the bytes the stack dispatches: each at
    `collective_seconds` (`nccl`'s time, `serving.llm_iteration`, or the engine's measured in-domain all-to-all), but
    those DeepEP's normal kernels send (`deepep_all_to_alls`) at `cluster.deepep.flex_dispatch_seconds` (priced for
    bf16, so at `dispatch_share` of it)."""
    normal = deepep_all_to_alls(shape, fabric, dep, collectives)
    priced = sum((collective_seconds(fabric, dep, c, nccl) for c in collectives
                  if c.role == "ep" and all(c is not d for d in normal)), np.zeros_like(m))
    return priced + flex_dispatch_seconds(shape, fabric, normal) * dispatch_share(dep) if normal else priced


def overlap_sm_share(dep: Deployment, compute_units: int) -> float:
    """The share f of the GPU's `compute_units` SMs the all-to-all kernels hold under two-batch overlap: the stack's
    `ep_overlap_sms` over them (at most 1 / 2, ASSUMPTION: no engine gives more), 0 with the toggle off."""
    profile = serving_profile(dep.stack) if EP_OVERLAP_SMS and compute_units > 0 else None
    return 0.0 if profile is None else min(profile.ep_overlap_sms / compute_units, 0.5)


def layer_seconds(compute_s: np.ndarray, tp_s: np.ndarray, ep_s: np.ndarray, dep: Deployment,
                  compute_units: int = 0) -> np.ndarray:
    """Seconds of one layer for M = 0, 1, ... tokens (index = M): compute + TP + EP collectives (`ep_s`: the EP ones
    at the stack's dispatch bytes, `ep_seconds`), or under two-batch overlap the larger of the two micro-batches'
    compute, slowed on the SMs the hidden all-to-all holds (`overlap_sm_share` of the GPU's `compute_units`), and
    their EP all-to-all, plus the TP collectives."""
    if not overlaps(dep.stack):
        return compute_s + tp_s + ep_s
    m = np.arange(len(compute_s))
    hi, lo = (m + 1) // 2, m // 2
    compute, comm = compute_s[hi] + compute_s[lo], ep_s[hi] + ep_s[lo]
    if (f := overlap_sm_share(dep, compute_units)) > 0.0:  # the hidden seconds run on (1 - f) of the SMs
        compute = compute + np.minimum(compute, comm) * f / (1.0 - f)
    split = np.maximum(compute, comm)
    return np.where(m >= 2, split, compute_s + ep_s) + tp_s


def layer_terms(compute_s: np.ndarray, tp_s: np.ndarray, ep_s: np.ndarray, dep: Deployment, flop_s: np.ndarray,
                routed_s: np.ndarray, compute_units: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`serving.llm_iteration`'s layer terms: the layer's seconds (`layer_seconds`), its pure-matmul seconds, and its
    routed experts' seconds scaled by the layer's over the plain sum (unchanged where nothing overlaps)."""
    layer = layer_seconds(compute_s, tp_s, ep_s, dep, compute_units)
    if not overlaps(dep.stack):
        return layer, flop_s, routed_s
    plain = compute_s + tp_s + ep_s
    return layer, flop_s, routed_s * np.divide(layer, plain, out=np.ones_like(layer), where=plain > 0)
