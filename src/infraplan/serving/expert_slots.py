"""The routed experts the busiest GPU of a wide-EP replica holds when EP does not divide them.

With E routed experts over EP GPUs a GPU holds E / EP of them on average, but experts are whole: where EP does not
divide E the busiest GPU holds ceil(E / EP) = L slots (DeepSeek-R1's 256 experts at EP 72: 4, not the mean 3.56).
How the engines place them:

* SGLang 0.5.9 fills L x EP physical slots with E + R experts, R = `--ep-num-redundant-experts`, and refuses
  anything else (`assert num_physical_experts % ep_size == 0`, srt/eplb/expert_location.py:204; the fused MoE
  `assert (num_experts - num_fused_shared_experts) % self.moe_ep_size == 0`, layers/moe/fused_moe_triton/
  layer.py:219); without measured statistics the placement is trivial, physical slot p holding logical expert
  p % E and rank r the slots r L .. r L + L - 1 (`init_trivial`, expert_location.py:102-105). Redundant experts
  are DeepSeek-V3's (arXiv 2412.19437 sec. 3.4); 256 experts in 288 slots at EP 72 (R = 32) is SGLang's 72-GPU
  decode of DeepSeek-V3 (recalled from its large-scale EP blog, not re-read).
* vLLM 0.12.0 without EPLB places E experts linearly, floor(E / EP) + 1 on the first E % EP ranks and no copies
  (`determine_expert_map`, model_executor/layers/fused_moe/layer.py:146-158); with EPLB it asserts that EP divides
  E + R (layer.py:469).
* TensorRT-LLM: its placement was not read; priced as the two above.

The memory plan already counts L slots per GPU, the spare ones holding redundant copies (`serving.kv_cache`
`weight_bytes_per_gpu`: R = L x EP - E). Under the model's uniform routing every logical expert receives the same
tokens and a replicated one splits them over its copies; then some GPU holds L experts without copies under both
placements (vLLM: the first E % EP ranks; SGLang's trivial map: checked for every catalog expert count 8-512 and
every EP up to E: the busiest rank always holds L un-replicated experts). In lock-step EP every rank waits at the
combine all-to-all for the slowest (`serving.lockstep_loop`), so the routed GEMMs are priced on that GPU: L
experts hit as often as any expert, their weights read and their tokens (L x the tokens of one expert) computed,
in L local experts' M tiles. Where EP divides E nothing changes (L = E / EP). `serve` says so in a note
(`uneven_experts_note`). Not moved: the EP all-to-all's bytes (priced by the mean rank's routed copies times the
expert load factor, `ops.layer`) and the routing kernels' local copies (`moe_routing_time`).

Effect (toggle `UNEVEN_EXPERT_SLOTS`): no validation row moves (every serving row's EP divides its experts);
DeepSeek-R1 at EP 72 on 256 experts: the busiest GPU's expert weight reads 4 / 3.56 = 1.125 x the mean's.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer import Gemm

UNEVEN_EXPERT_SLOTS = True  # price the busiest EP rank's ceil(E / EP) experts (module docstring; toggle to compare)


def busiest_rank_experts(mean_local_experts: float) -> float:
    """Routed experts on the busiest GPU when a GPU holds `mean_local_experts` = E / EP on average: ceil(E / EP)
    (module docstring); the mean itself with `UNEVEN_EXPERT_SLOTS` off."""
    if not UNEVEN_EXPERT_SLOTS or mean_local_experts <= 0:
        return mean_local_experts
    return float(math.ceil(mean_local_experts))


def busiest_rank_gemm(g: Gemm, mean_local_experts: float) -> tuple[Gemm, float]:
    """A routed-expert GEMM record of the mean GPU (`ops.layer`: `count` hit experts of E / EP) as the busiest GPU
    runs it, with its local experts: L / (E / EP) times the hit experts, each of the same tokens. Unchanged (the
    same objects) where EP divides E."""
    slots = busiest_rank_experts(mean_local_experts)
    if slots == mean_local_experts:
        return g, mean_local_experts
    return replace(g, count=np.asarray(g.count, dtype=np.float64) * (slots / mean_local_experts)), slots


def uneven_experts_note(shape: TransformerShape, ep: int, engine: str | None) -> str | None:
    """The note `serve` gives where EP does not divide the routed experts (module docstring), else None."""
    experts = shape.num_experts
    if not (UNEVEN_EXPERT_SLOTS and shape.is_moe and ep > 1 and experts % ep):
        return None
    slots = math.ceil(experts / ep)
    placement = {"sglang": f"SGLang runs it only with --ep-num-redundant-experts {slots * ep - experts} "
                           f"({slots * ep} slots)",
                 "vllm": f"vLLM without EPLB puts {slots} experts on each of its first {experts % ep} ranks"}
    how = placement.get(engine or "", "the engine's placement not read: priced as SGLang's and vLLM's")
    return (f"EP {ep} does not divide the {experts} routed experts of {shape.name}: the busiest GPU holds {slots} "
            f"(mean {experts / ep:.2f}) and every rank waits for it at the combine, so each layer's expert GEMMs "
            f"and weight reads are priced on {slots} experts ({how}; serving.expert_slots)")
