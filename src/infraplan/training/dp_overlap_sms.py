"""The SMs the overlapped data-parallel collectives hold while they hide under the layers' compute (BUILT, OFF).

What is modelled: `training.step_assembly` hides a step's DP gradient reductions and parameter gathers (ZeRO 0:
the all-reduce; ZeRO 1 / 2: reduce-scatter + all-gather; ZeRO 3 / FSDP: the per-layer all-gathers forward and
backward and reduce-scatters) behind a micro-batch's forward / backward (`dp_windows`) and prices only what does
not fit. NCCL runs each collective as a CUDA kernel of one CTA per channel on the SMs of the GPU, concurrently with
the layer's kernels on the compute stream; those SMs are lost to the GEMMs meanwhile. The same physics is priced for
the overlapped TP collectives (`Stack.tp_overlap_sm_fraction`: Transformer Engine userbuffers' 16 SMs for its
reduce-scatter kernels) and the overlapped EP all-to-all (`MoeRouting.overlap_sm_fraction`: DeepSeek-V3's 20 of
132 SMs), not for DP. Here: while the hidden DP traffic runs (its standalone time, `hidden_s`), the compute beside
it runs on SMs - C of the SMs, so the compute takes hidden_s x C / (SMs - C) longer (as `with_ep_comm` prices the
EP overlap's SMs: hidden x f / (1 - f), f = C / SMs).

Sources: Megatron-Core runs its DP collectives as NCCL process-group collectives on their own stream (megatron-core
0.16.1 distributed/param_and_grad_buffer.py bucket groups; Megatron-FSDP megatron_fsdp/param_and_grad_buffer.py
:3182-3262, the reduce-scatter stream); NCCL's CTA count per kernel is a communicator setting, "the default values
for Hopper GPUs are ... max_ctas = 32, min_ctas = 1" (megatron-core 0.16.1 parallel_state.py:150-176,
`get_nccl_options`; no Megatron-Bridge perf recipe sets them). ASSUMPTION (the size): C =
`DP_COLLECTIVE_CTAS` = 16, the SM count the catalog already uses for the overlapped TP reduce-scatter kernels
(TE userbuffers' default `num_sm`); NCCL chooses its channels by message size and topology between 1 and 32 CTAs,
and no measurement of that choice for these collectives is at hand. So the toggle `DP_OVERLAP_SMS` stays False:
measured with it on (round 16f of validation/notes/training_sets_tried.md) it moves the frontier set 10.58 -> 10.30 %
at 16 CTAs and -> 9.95 % at 32 (H022 +44.9 -> +42.4 / +39.3, H010 +7.6 -> +6.4 / +5.0), gated 5.93 -> 5.93 / 5.94,
vTrain unchanged.
"""

from __future__ import annotations

from typing import Any

from infraplan.scalar_path import MathOps

DP_OVERLAP_SMS = False  # price the SMs of the hidden DP collectives (False: they hide for free, as before)
DP_COLLECTIVE_CTAS = 16.0  # ASSUMPTION: CTAs (one SM each) an overlapped NCCL DP collective holds (module docstring)


def hidden_dp_seconds(zero: Any, traffic: dict[str, Any], exposed: Any, ops: MathOps) -> Any:
    """Seconds of the step's DP collectives that run hidden under compute: their standalone time by ZeRO stage
    (the terms `step_assembly.assemble_step` compares with its windows) less the exposed part (>= 0)."""
    gather_layers = traffic["gather_layers"]
    total = ops.where(zero == 0, traffic["allreduce"],
                      ops.where(zero < 3, traffic["scatter"] + traffic["gather"],
                                2.0 * gather_layers + traffic["scatter_layers"]))
    return ops.maximum(total - exposed, 0.0)


def dp_overlap_sm_seconds(zero: Any, traffic: dict[str, Any], exposed: Any, compute_units: float,
                          ops: MathOps) -> Any:
    """Compute seconds added by the SMs the hidden DP collectives hold (`DP_COLLECTIVE_CTAS` of `compute_units`);
    0.0 while `DP_OVERLAP_SMS` is off or the accelerator has no more SMs than the collective's CTAs."""
    if not DP_OVERLAP_SMS or compute_units <= DP_COLLECTIVE_CTAS:
        return 0.0
    share = DP_COLLECTIVE_CTAS / compute_units
    return hidden_dp_seconds(zero, traffic, exposed, ops) * (share / (1.0 - share))
