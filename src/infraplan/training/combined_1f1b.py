"""Megatron-Core's combined 1F1B (`MoeRouting.overlap_ep_comm`, `overlap_moe_expert_parallel_comm`): which plans
run it, and what its schedule costs beside the paired all-to-all of every layer (`expert_dispatch.with_ep_comm`:
`ep_paired` / `compute_paired`, one micro-batch's forward chunk beside another's backward chunk).

Sources: megatron-core 0.16.1 (pipeline_parallel/schedules.py, combined_1f1b.py, p2p_communication.py,
models/common/model_chunk_schedule_plan.py, model_parallel_config.py), megatron-bridge 0.3.1
(training/comm_overlap.py) and the torch 2.11.0 wheel (torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp,
torch/distributed/distributed_c10d.py); round 12a of validation/notes/training_sets_tried.md.

* Which plans (`combined_1f1b_plans`): EP > 1, virtual stages when PP > 1, no full recompute
  (transformer_config.py:1855-1877 asserts these); a plan that breaks one runs without the overlap.
* Unpaired passes (`unpaired_passes`, `unpaired_pass_s`): the interleaved schedule runs its warm-up forwards and
  cool-down backwards alone; only the steady-state steps pair a forward with a backward (schedules.py:1717-1725;
  warm-up loop :1410, cool-down loop :1798). A rank warms up with 2 (p - r - 1) + (v - 1) g + 1 chunk forwards
  (`get_pp_rank_microbatches`, schedules.py:765-780, the + 1 only under the EP overlap; at most the m v chunk
  passes of the step, :785-787), g = `microbatch_group_size_per_vp_stage`, PP by default
  (model_parallel_config.py:447-448), and cools down with as many backwards. Counted on the first rank (r = 0),
  whose warm-up opens the step and whose cool-down closes it. Without pipelining the first micro-batch's forward
  and the last one's backward run alone (combined_1f1b.py:51-68 / :93-107): the same formula at p = v = 1. A
  pass with one side only runs the layer's nodes one after another (`TransformerLayerSchedulePlan.run` with
  f_layer or b_layer None, model_chunk_schedule_plan.py:190-254), its all-to-all under nothing: per layer of the
  chunk, the unpaired forward + backward time less the paired one.
* Pipeline transfers on the all-to-all's NICs (`p2p_on_ep_nic_s`): with virtual stages Megatron-Bridge sets
  `overlap_p2p_comm` (and not `batch_p2p_comm`, comm_overlap.py:450-454), so each combined step ends with
  `send_forward_recv_forward` issued from the comm stream and `send_backward_recv_backward` from the compute
  stream (model_chunk_schedule_plan.py:505-517; schedules.py:1603-1715), async isend / irecv on the pipeline group
  (p2p_communication.py:54-128, `wait_on_reqs=False` :589 / :615). ProcessGroupNCCL runs each NCCL call on a CUDA
  stream of its own, "different from the current CUDA stream" (ProcessGroupNCCL.hpp:291-297), one set per
  process group (`ncclStreams_`, :1405-1406); the caller's stream waits only where it calls `wait()`. The
  all-to-all (`all_to_all_single` without async_op, which waits on it: distributed_c10d.py:4833-4838) is the
  EP group's; the comm stream waits only on the previous step's forward send (schedules.py:1634), the compute
  stream on the previous backward send (:1697) and on the receives at the next step's start (:1594 / :1667). So
  the transfers do not serialise on the comm stream: they run beside the all-to-all and share the GPU's NIC
  where both cross scale-up domains (H026's pipeline neighbours, 32 ranks apart, are four nodes away). A middle
  stage sends an activation forward and a gradient backward and receives one of each per step: two boundary
  transfers each way (the first / last stage 2 - 1 / v: no receive into its first chunk's forward / send from
  it backward, and the mirror on the last). Where the pair is bound by its all-to-all the NIC has no idle time
  and those bytes lengthen the step (ASSUMPTION: the NIC is shared work-conserving, the all-to-all slowed by
  the p2p bytes over the NIC rate); the pair's time without an all-to-all running (`ep_pair_idle`) absorbs them
  first. The steady-state steps only (the unpaired passes' all-to-alls leave the NIC idle under their compute).
Both only on the schedules Megatron-Core runs it in (`megatron_schedule`): the interleaved one, or none (PP 1).
Not DualPipe (DeepSeek's own schedule) nor ZB-V, which the gate also lets pair at --vpp 2: their pairing stays
`with_ep_comm`'s alone.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import MathOps
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.plan import PlanArrays

_INTERLEAVED = int(Schedule.INTERLEAVED)
_FULL = int(Recompute.FULL)
UNPAIRED_PASSES = True  # round 12a (c): the warm-up / cool-down passes run alone (False: priced paired)
P2P_ON_EP_NIC = True  # round 12a (b): the pipeline transfers share the all-to-all's NIC (False: hidden)


def combined_1f1b_plans(plan: PlanArrays, profile: Stack) -> Any:
    """Where the stack's combined 1F1B runs (bools over plans, or one plan's bool): Megatron-Core accepts
    `overlap_moe_expert_parallel_comm` with EP > 1, virtual stages when PP > 1 and no full recompute
    (megatron-core 0.16.1 transformer_config.py:1855-1877); False everywhere on other stacks."""
    if not profile.moe.overlap_ep_comm:
        return False
    return ((plan.pp == 1) | (plan.vpp > 1)) & (plan.recompute != _FULL) & (plan.ep > 1)


def megatron_schedule(plan: PlanArrays) -> Any:
    """Plans on a schedule Megatron-Core runs combined 1F1B in: the interleaved one (schedules.py:1322-1345), or no
    pipelining (schedules.py:598-614)."""
    return (plan.pp == 1) | (plan.schedule == _INTERLEAVED)


def unpaired_passes(pp: Any, vpp: Any, micro_batches: Any, ops: MathOps) -> Any:
    """Chunk forwards the first pipeline rank runs before its first paired step (and backwards after its last):
    min(2 (p - 1) + (v - 1) p + 1, m v) (schedules.py:765-787, group size p: model_parallel_config.py:447-448)."""
    return ops.minimum(2.0 * (pp - 1.0) + (vpp - 1.0) * pp + 1.0, micro_batches * vpp)


def unpaired_pass_s(lt: dict[str, Any], chunk_layers: Any, passes: Any, ops: MathOps) -> Any:
    """Seconds a step adds where `passes` chunk forwards and as many backwards of `chunk_layers` layers run
    alone: per layer the forward + backward compute and all-to-all in sequence less the paired time."""
    alone = lt["compute_fwd"] + lt["compute_bwd"] + lt["ep_fwd"] + lt["ep_bwd"]
    return passes * chunk_layers * ops.maximum(alone - lt["compute_paired"] - lt["ep_paired"], 0.0)


def p2p_on_ep_nic_s(pp: Any, vpp: Any, steps: Any, chunk_layers: Any, p2p_s: Any, pair_idle_s: Any, shares: Any,
                    ops: MathOps) -> Any:
    """Seconds `steps` paired steps add when each one's pipeline transfers (`p2p_s` each) share the NIC with the
    all-to-all (`shares` 1 where both cross scale-up domains, else 0): two transfers each way per step on a middle
    stage, 2 - 1 / v with two stages, less the `pair_idle_s` per layer of the chunk in which no all-to-all runs."""
    transfers = ops.where(pp > 2.0, 2.0, 2.0 - 1.0 / vpp)
    per_step = ops.maximum(transfers * p2p_s - chunk_layers * pair_idle_s, 0.0)
    return ops.where(pp > 1.0, shares * steps * per_step, 0.0)


def combined_1f1b_schedule_s(plan: PlanArrays, lt: dict[str, Any], traffic: dict[str, Any], layers: Any,
                             runs: Any, ops: MathOps) -> Any:
    """Exposed all-to-all seconds per step that the combined 1F1B schedule adds to its paired layers (`runs`:
    the plans it runs on, `megatron_schedule`): the unpaired warm-up / cool-down passes and the pipeline transfers
    on the all-to-all's NICs (module docstring), for the heaviest stage's `layers`."""
    pp, vpp, m = ops.as_float(plan.pp), ops.as_float(plan.vpp), ops.as_float(plan.micro_batches)
    chunk_layers = layers / vpp
    passes = unpaired_passes(pp, vpp, m, ops)
    added = 0.0 * pp
    if UNPAIRED_PASSES:
        added = added + unpaired_pass_s(lt, chunk_layers, passes, ops)
    if P2P_ON_EP_NIC:
        shares = lt.get("ep_scale_out", 0.0) * traffic.get("p2p_scale_out", 0.0)
        added = added + p2p_on_ep_nic_s(pp, vpp, m * vpp - passes, chunk_layers, traffic["p2p"],
                                        lt.get("ep_pair_idle", 0.0), shares, ops)
    return ops.where(runs, added, 0.0)
