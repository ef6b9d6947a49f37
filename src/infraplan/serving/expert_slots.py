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
in L local experts' M tiles. Where EP divides E nothing changes (L = E / EP).

The EP all-to-all (hX40): `ops.layer` prices the dispatch and the combine on the mean rank's bytes, its own T
tokens' k routed copies (T k h x 2 B, each way). The busiest rank receives the copies routed to its experts: with
every rank's T tokens routed uniformly, EP T k / E copies per expert, so L EP T k / E = T k x L / (E / EP), and it
sends their outputs back in the combine; the lock-step ranks wait for it at both. Where the engines send them:
SGLang 0.5.9 without EPLB and with the trivial init (its defaults: `ep_dispatch_algorithm` stays None,
server_args.py:2237-2240) leaves the router's logical ids as the physical slots (`topk_ids_logical_to_physical`
returns them unchanged, eplb/expert_location_dispatch.py:76-80), so logical expert e is served by slot e alone: the
redundant slots E .. L EP - 1 receive nothing and ranks 0 .. E / L - 1 hold L experts taking all their tokens;
vLLM 0.12's first E % EP ranks hold L experts (above). DeepEP's low-latency kernels send a token once per routed
expert, as `ops.layer` counts; its normal kernels once per destination rank (not modelled here, nor in the mean).
So the all-to-all is priced on the busiest rank's bytes, T k h x 2 B x L / (E / EP) (`busiest_rank_collective`),
where the attention-DP ranks exchange tokens (wide EP; EP inside the TP group has no all-to-all). Its receive side
is the copies of every rank's tokens, so its time beyond the mean rank's, t(busiest bytes) - t(mean bytes), goes
with the routed experts (`llm_iteration`'s "routed_s"), which SGLang's lock-step ranks price on the ranks' mean
tokens (`serving.lockstep_loop`); a rank's own sends stay on its own tokens. Balanced ranks: t(busiest bytes). A
lone rank prefilling 8,192 tokens: its own sends bind, not a receiver (72 ranks: 1 / 72 of its copies each); priced
on its own tokens, the inbound term would have added 12.5 % to that lone prefill's all-to-all (SGLang chat at 36
requests/s on DeepSeek-R1, EP 72: TPOT p50 89.5 -> 103.4 ms, against 89.5 -> 89.4 as adopted). `serve` and
`serve-plan` say so in one note (`uneven_experts_note`). Not moved: the routing kernels' local copies
(`moe_routing_time`: the rank's own T k copies, what it sends).

Engines that refuse: SGLang 0.5.9's fused MoE asserts that EP divides the experts it is built with
(layers/moe/fused_moe_triton/layer.py:219); its DeepSeek, Qwen2/3-MoE and GPT-OSS models build it with E + R
(models/deepseek_v2.py:421-423, qwen3_moe.py:238-239, qwen2_moe.py:173-174, gpt_oss.py:140-141), so a redundant R
makes any EP run, but its Mixtral builds it with E alone (models/mixtral.py:96, :223): SGLang cannot serve a Mixtral
at an EP not dividing its experts (`engine_refusal`; `serve` refuses it, `serve-plan` does not try it).

EPLB (a stack's `ep_redundant_experts` R > 0, toggle `EPLB_REDUNDANT_EXPERTS`; hY session 52): SGLang with
`--enable-eplb --ep-num-redundant-experts R` places the E + R physical experts from measured load statistics so
that the ranks' loads even out (DeepSeek-V3 arXiv 2412.19437 sec. 3.4: "duplicates high-load experts and deploys
them redundantly ... to balance the load"; DeepSeek's EPLB README; recalled, not re-read). Under the model's uniform
routing that is the balanced placement: every rank receives the mean rank's T k EP / E copies per expert-equivalent,
spread over its S = ceil((E + R) / EP) slots (`spare_per_rank` = R / EP), whose weights it reads. So the busiest
GPU's routed GEMMs run S / (E / EP) times the hit experts at (E / EP) / S of the tokens each (`busiest_rank_gemm`),
and its all-to-all moves the mean rank's bytes (`busiest_rank_collective`). LMSYS's 72-GPU decode (R = 32, 288 slots,
S = 4): the same 4 experts' weights, 3.56 experts' tokens instead of 4. ASSUMPTION: the balance is exact (EPLB's is
measured, not perfect). The memory plan holds the S slots' weights too (`redundant_experts`, passed to
`serving.kv_cache.kv_capacity`; hW70: it held ceil(E / EP), so the 32-rank prefill's S = 9 at R = 32 was sized on 8
experts, and R = 1,000 at EP 16 on 16 of 79), and SGLang / vLLM, which assert that EP divides E + R (SGLang 0.5.9
srt/eplb/expert_location.py:204, vLLM 0.12.0 fused_moe/layer.py:469), refuse an R that does not fill whole slots
(`engine_refusal`). Not changed: `validation.step_components`' breakdown (no EPLB).

Effect (toggle `UNEVEN_EXPERT_SLOTS`): no validation row moves (every serving row's EP divides its experts);
DeepSeek-R1 at EP 72 on 256 experts: the busiest GPU's expert weight reads and all-to-all bytes 4 / 3.56 = 1.125 x
the mean's.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer import Collective, Gemm
from infraplan.serving.engines import serving_profile
from infraplan.units import counted

UNEVEN_EXPERT_SLOTS = True  # price the busiest EP rank's ceil(E / EP) experts (module docstring; toggle to compare)
EPLB_REDUNDANT_EXPERTS = True  # a stack's `ep_redundant_experts` balance the ranks (module docstring); False: ignored
# SGLang 0.5.9 model families whose fused MoE is built without redundant slots (module docstring, "Engines that refuse")
SGLANG_FIXED_SLOT_FAMILIES = frozenset({"mixtral"})


def busiest_rank_experts(mean_local_experts: float) -> float:
    """Routed experts on the busiest GPU when a GPU holds `mean_local_experts` = E / EP on average: ceil(E / EP)
    (module docstring); the mean itself with `UNEVEN_EXPERT_SLOTS` off."""
    if not UNEVEN_EXPERT_SLOTS or mean_local_experts <= 0:
        return mean_local_experts
    return float(math.ceil(mean_local_experts))


def redundant_experts(stack: str | None, ep: int) -> int:
    """R: the EPLB redundant experts of `stack`'s `ep_redundant_experts` at EP `ep` (module docstring), which the
    memory plan holds beside the E routed ones (`serving.kv_cache.weight_bytes_per_gpu`); 0 without them, for no
    stack, at EP 1, or with `EPLB_REDUNDANT_EXPERTS` off."""
    profile = serving_profile(stack) if EPLB_REDUNDANT_EXPERTS and stack and ep > 1 else None
    return 0 if profile is None else profile.ep_redundant_experts


def spare_per_rank(stack: str | None, ep: int) -> float:
    """R / EP: the EPLB redundant experts per rank of `stack`'s `ep_redundant_experts` R at EP `ep` (module
    docstring); 0 without them, for no stack, or with `EPLB_REDUNDANT_EXPERTS` off."""
    return redundant_experts(stack, ep) / ep if ep > 1 else 0.0


def busiest_rank_gemm(g: Gemm, mean_local_experts: float, spare: float = 0.0) -> tuple[Gemm, float]:
    """A routed-expert GEMM record of the mean GPU (`ops.layer`: `count` hit experts of E / EP) as the busiest GPU
    runs it, with its local experts: L / (E / EP) times the hit experts, each of the same tokens; under EPLB (`spare`
    = R / EP > 0) S = ceil(E / EP + R / EP) slots, S / (E / EP) times the hit experts at (E / EP) / S of the tokens
    each. Unchanged (the same objects) where EP divides E and there is no EPLB."""
    if spare > 0.0 and mean_local_experts > 0:
        held = float(math.ceil(mean_local_experts + spare - 1e-9))
        ratio = held / mean_local_experts
        m = np.asarray(g.m, dtype=np.float64) / ratio
        return replace(g, count=np.asarray(g.count, dtype=np.float64) * ratio, m=m), held
    slots = busiest_rank_experts(mean_local_experts)
    if slots == mean_local_experts:
        return g, mean_local_experts
    return replace(g, count=np.asarray(g.count, dtype=np.float64) * (slots / mean_local_experts)), slots


def busiest_rank_collective(c: Collective, mean_local_experts: float, spare: float = 0.0) -> Collective:
    """An op-table collective as the busiest GPU runs it: the EP all-to-all's bytes (the mean rank's routed copies,
    `ops.layer`) times L / (E / EP), the copies routed to its L experts (module docstring); any other collective,
    the all-to-all where EP divides E, and under EPLB (`spare` > 0: balanced ranks) unchanged (the same object)."""
    if c.role != "ep" or c.kind != "all_to_all" or spare > 0.0:
        return c
    slots = busiest_rank_experts(mean_local_experts)
    if slots == mean_local_experts:
        return c
    return replace(c, bytes=np.asarray(c.bytes, dtype=np.float64) * (slots / mean_local_experts))


def engine_refusal(shape: TransformerShape, ep: int, engine: str | None, stack: str | None = None) -> str | None:
    """Why the serving engine cannot build the MoE layers of `shape` at EP `ep` (module docstring), else None.
    With `stack`'s EPLB redundant experts R: SGLang and vLLM build E + R physical experts and assert that EP divides
    them (module docstring's "EPLB")."""
    redundant = redundant_experts(stack, ep) if shape.is_moe else 0
    if redundant and engine in ("sglang", "vllm") and (shape.num_experts + redundant) % ep:
        physical = shape.num_experts + redundant
        source = ("sglang 0.5.9 srt/eplb/expert_location.py:204" if engine == "sglang"
                  else "vllm 0.12.0 model_executor/layers/fused_moe/layer.py:469")
        fits = [n for n in range(1, ep + 1) if (shape.num_experts + n) % ep == 0][:1]
        hint = f": {fits[0]} or {fits[0] + ep} redundant experts fill whole slots" if fits else ""
        return (f"{engine} cannot serve {shape.name} at EP {ep} with {redundant} redundant experts (EPLB, the "
                f"stack's ep_redundant_experts): it places {shape.num_experts} + {redundant} = {physical} physical "
                f"experts and asserts that EP divides them ({source}){hint}")
    if not (shape.is_moe and ep > 1 and shape.num_experts % ep and engine == "sglang"
            and shape.model_type in SGLANG_FIXED_SLOT_FAMILIES):
        return None
    return (f"SGLang cannot serve {shape.name} at EP {ep}: its {shape.model_type} MoE is built on the "
            f"{shape.num_experts} experts alone, no redundant slots, and EP must divide them (sglang 0.5.9 "
            "fused_moe_triton/layer.py:219)")


def uneven_experts_note(shape: TransformerShape, ep: int, engine: str | None) -> str | None:
    """The note `serve` and `serve-plan` give where EP does not divide the routed experts (module docstring), else
    None."""
    experts = shape.num_experts
    if not (UNEVEN_EXPERT_SLOTS and shape.is_moe and ep > 1 and experts % ep):
        return None
    slots = math.ceil(experts / ep)
    placement = {"sglang": f"SGLang runs it only with --ep-num-redundant-experts {slots * ep - experts} "
                           f"({slots * ep} slots)",
                 "vllm": f"vLLM without EPLB puts {slots} experts on each of its first {counted(experts % ep, 'rank')}"}
    how = placement.get(engine or "", "the engine's placement not read: priced as SGLang's and vLLM's")
    return (f"EP {ep} does not divide the {experts} routed experts of {shape.name}: the busiest GPU holds {slots} "
            f"(mean {experts / ep:.2f}) and every rank waits for it at the combine, so each layer's expert GEMMs and "
            f"weight reads, and with attention DP its all-to-all bytes, are priced on {slots} experts ({how}; "
            "serving.expert_slots)")
