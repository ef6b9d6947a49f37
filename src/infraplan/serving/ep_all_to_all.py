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

ASSUMPTIONS: the overlap is perfect (DeepEP's normal kernels take ~20 of the 132 SMs while they run, recalled, not
priced; its low-latency kernels take none); the halves are even; DeepEP's one scale-out copy per destination node
(normal kernels, `training.expert_dispatch.deepep_node_dedup`) is not priced in serving. Checked out of sample
(validation/notes/serving_hopper_moe_tried.md, "hO (session 52)"): LMSYS's 96-H100 and DeepSeek's H800 figures.
"""

from __future__ import annotations

import numpy as np

from infraplan.ops.moe_routing import FP8_DISPATCH_PAIR_SHARE
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import serving_profile

TWO_BATCH_OVERLAP = True  # the stacks' `two_batch_overlap` priced (module docstring); False: never split
EP_FP8_DISPATCH = True  # the stacks' `ep_fp8_dispatch` priced (module docstring); False: bf16 both ways


def overlaps(stack: str) -> bool:
    """Whether `stack`'s engine is priced with two-batch overlap: its serving profile's flag, with the toggle on."""
    profile = serving_profile(stack) if TWO_BATCH_OVERLAP else None
    return profile is not None and profile.two_batch_overlap


def dispatch_share(dep: Deployment) -> float:
    """Bytes of the deployment's dispatch + combine over two bf16 all-to-alls: `FP8_DISPATCH_PAIR_SHARE` where its
    stack dispatches fp8 and its weights are fp8, else 1."""
    profile = serving_profile(dep.stack) if EP_FP8_DISPATCH and dep.dtype == "fp8" else None
    return FP8_DISPATCH_PAIR_SHARE if profile is not None and profile.ep_fp8_dispatch else 1.0


def layer_seconds(compute_s: np.ndarray, tp_s: np.ndarray, ep_s: np.ndarray, dep: Deployment) -> np.ndarray:
    """Seconds of one layer for M = 0, 1, ... tokens (index = M): compute + TP + EP collectives (the EP ones at the
    stack's dispatch bytes), or under two-batch overlap the larger of the two micro-batches' compute and their EP
    all-to-all, plus the TP collectives."""
    share = dispatch_share(dep)
    ep = ep_s * share if share != 1.0 else ep_s
    if not overlaps(dep.stack):
        return compute_s + tp_s + ep
    m = np.arange(len(compute_s))
    hi, lo = (m + 1) // 2, m // 2
    split = np.maximum(compute_s[hi] + compute_s[lo], ep[hi] + ep[lo])
    return np.where(m >= 2, split, compute_s + ep) + tp_s


def layer_terms(compute_s: np.ndarray, tp_s: np.ndarray, ep_s: np.ndarray, dep: Deployment, flop_s: np.ndarray,
                routed_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`serving.llm_iteration`'s layer terms: the layer's seconds (`layer_seconds`), its pure-matmul seconds, and its
    routed experts' seconds scaled by the layer's over the plain sum (unchanged where nothing overlaps)."""
    layer = layer_seconds(compute_s, tp_s, ep_s, dep)
    if not overlaps(dep.stack):
        return layer, flop_s, routed_s
    plain = compute_s + tp_s + ep_s * dispatch_share(dep)
    return layer, flop_s, routed_s * np.divide(layer, plain, out=np.ones_like(layer), where=plain > 0)
