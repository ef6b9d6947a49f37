"""The attention-DP ranks of a wide-EP replica stalling for each other's prefills, in the low-load limit
(`serving.llm_iteration` module docstring, "Lock-step ranks"): the ranks meet at every MoE layer (dispatch /
combine), so a rank's iteration lasts as long as the slowest rank's; where the stack runs the ranks' context phases
together (`attention_dp_prefill_stall` of its serving profile: TensorRT-LLM), each own prefill token carries the
attention_dp - 1 other ranks' prefills. `serving.wide_ep_lockstep` simulates the ranks one by one instead.
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import serving_profile

WIDE_EP_LOCKSTEP = True  # attention-DP ranks stall for each other's prefills (module docstring; toggle to compare)


def wide_ep_prefill_stall(body_s: np.ndarray, pair_s: float, token_s: float, dep: Deployment) -> tuple[float, float]:
    """Seconds per prefill token and per prefill (query, key) pair that the attention_dp - 1 OTHER ranks of a
    wide-EP replica stall this rank for (module docstring, "Lock-step ranks"): the marginal body time per token
    of a full token budget (`body_s` from half to all of it) plus the iteration's own per-prompt-token attention
    (`token_s`: sliding-window layers' W keys, DSA's core over top-k keys, the draft layer over the prompt; hQ62),
    and the pair time, times the other ranks."""
    others = stall_others(dep)
    if others <= 0 or len(body_s) < 3:
        return 0.0, 0.0
    top = len(body_s) - 1
    per_token_s = float(body_s[top] - body_s[top // 2]) / (top - top // 2)
    return others * (per_token_s + token_s), others * pair_s


def stall_others(dep: Deployment) -> int:
    """The other ranks whose prefills stall this one in the low-load limit (`wide_ep_prefill_stall`); 0 without."""
    return dep.attention_dp - 1 if WIDE_EP_LOCKSTEP and _ranks_stall(dep) else 0


def _ranks_stall(dep: Deployment) -> bool:
    """Whether the stack's attention-DP ranks stall for each other's prefills (`attention_dp_prefill_stall` of its
    serving profile: TensorRT-LLM runs the ranks' context phases together, module docstring)."""
    if dep.attention_dp <= 1:
        return False
    profile = serving_profile(dep.stack)
    return profile is None or profile.attention_dp_prefill_stall
