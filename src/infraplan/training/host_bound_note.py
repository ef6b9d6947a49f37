"""The note of a plan whose GPU waits for its host (issue 12 item 1, visibility: hK, session 58).

The step time holds the host issue time no queued GPU work covers (`training.host_time`: eager PyTorch issues a
kernel in ~26 us, `Node.host_kernel_dispatch_s`; CUDA graphs one launch per layer and phase), shown as
`breakdown_s.host_exposed` and by phase (`host_exposed_phases_s`). Where it is a sizeable share of the step the
note says so, with the phase that holds the most and what the model knows hides it: CUDA graphs (a stack that does
not run them), a larger micro-batch (more GPU work behind the same launches: the model's kernel counts are per
micro-batch, `host_time.kernel_counts`), or, where dropless MoE layers' host syncs hold the most, drop-and-pad
routing, which sets its split sizes on the CPU and never syncs (Megatron-Core 0.16.1 moe/token_dispatcher.py:490-510),
or, where a blocking pipeline's p2p host calls do, p2p that overlaps compute (`training.pipeline_hops`).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["HOST_BOUND_SHARE", "host_bound_notes"]

# share of the step above which the note is given: a reporting threshold, not physics (ASSUMPTION: 5 %, the
# smallest share a profile's eye would call "host-bound")
HOST_BOUND_SHARE = 0.05
_PHASE_WORDS = {"forward": "the forward intervals", "backward": "the backward intervals",
                "forward_backward": "the later micro-batches, each forward + backward one run-ahead interval",
                "moe_syncs": "the dropless MoE layers' host syncs", "optimizer": "the optimizer's launches",
                "pp_comm": "the blocking pipeline send / receive calls"}


def host_bound_notes(step_time_s: float, host_exposed_s: float, phases_s: Mapping[str, float], cuda_graphs: bool,
                     stack: str, outside_rule: str | None = None) -> list[str]:
    """One line where the exposed host time is at least `HOST_BOUND_SHARE` of the step, else []; `cuda_graphs`:
    whether the plan is graphed, `outside_rule`: why the stack's graphs leave it eager
    (`cuda_graph_rule.ungraphed_reason`)."""
    if not step_time_s > 0.0 or host_exposed_s < HOST_BOUND_SHARE * step_time_s:
        return []
    phase = max(phases_s, key=phases_s.__getitem__)
    if phase == "moe_syncs":
        remedy = "drop-and-pad MoE routing (a capacity factor) never syncs the host"
    elif phase == "pp_comm":  # (`pipeline_hops.pipeline_p2p_time`: overlapped p2p has no host calls on the path)
        remedy = ("CUDA graphs do not remove these calls; p2p that overlaps compute (Megatron-Core's, or an "
                  "interleaved schedule, VP > 1, where the stack overlaps only there) takes them off the critical path")
    elif cuda_graphs:
        remedy = "the stack runs CUDA graphs already: a larger micro-batch puts more GPU work behind each launch"
    elif outside_rule:
        remedy = f"{outside_rule}; a larger micro-batch puts more GPU work behind each launch"
    else:
        remedy = (f"CUDA graphs (a stack file `extends: {stack}` with `cuda_graphs: true`, where the framework runs "
                  "them) or a larger micro-batch (more GPU work behind each launch) hide it")
    return [f"the CPU issues kernels slower than the GPU runs them: {host_exposed_s:.3g} s "
            f"({100.0 * host_exposed_s / step_time_s:.1f} %) of the step is host issue time no queued GPU work covers "
            f"(breakdown_s.host_exposed; {phases_s[phase]:.3g} s of it in {_PHASE_WORDS.get(phase, phase)}); {remedy}"]
