"""Forward-only passes of a training plan: the in-run evaluation a benchmark's wall clock includes.

An evaluation runs the validation sequences through the model at the run's plan with no backward, no gradient
traffic and no optimizer step (Megatron-Core / NeMo `forward_backward_func(..., forward_only=True)` under
`torch.no_grad`: the same micro-batch, TP, CP and pipeline; nothing is recomputed or saved). Priced by the step
model itself (`step_time.one_plan_step_time(..., forward_only=True)`) on `forward_only_terms`:
* each layer's, the embedding's and the LM head + loss's forward terms, their backward terms 0; the loss is
  computed (the evaluation's log-perplexity), so the LM head + cross-entropy forward stays;
* the pipeline's fill and drain on those forward stage times: the schedule's bubble of a stage that only runs
  forwards ((p - 1) t_fwd under 1F1B, (p - 1) / v t_fwd interleaved: Megatron-Core's forward-only schedules run
  every micro-batch as a warm-up forward), and the forward half of the p2p chain (`pipeline_hops`: the chain
  through the p x v chunks is forward and back, 2 (p v - 1) transfers);
* no DP traffic: no gradient is reduced and no parameter re-gathered after a step (ZeRO 0-2; Muon's inside its
  step, `dp_exposure.BLOCKING_GATHER`, dropped). ZeRO-3's forward
  parameter gathers are left out too: ASSUMPTION, prefetched behind the forward as in training (priced exposed
  only where they exceed the forward's window; the step model's ZeRO-3 form cannot split its forward and backward
  gathers here). Their seconds stay in `ZERO3_FORWARD_GATHER` for a caller that prices them (`dsa_warmup`: the DSA
  warm-up's frozen weights, hP62).
A leaf `step_time` imports; an evaluation's seconds and its share of a run's wall clock are `training.evaluation`'s.
"""

from __future__ import annotations

from typing import Any

from infraplan.training.dp_exposure import BLOCKING_GATHER

# traffic of the step that an evaluation does not run: the DP gradient reduction and parameter gathers (ZeRO 0-3)
# and the tied embedding's gradient all-reduce (`step_traffic.pipeline_and_dp_traffic`)
NO_EVAL_TRAFFIC = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers", "embedding_sync")
# the step components an evaluation's forward passes are made of (`step_assembly.COMPONENTS` less the DP
# exposure and the optimizer, which it does not run)
FORWARD_COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "other", "host_exposed")
# the traffic's ZeRO-3 per-layer parameter gathers of one forward (`step_traffic`'s `gather_layers`), kept beside the
# zeroed traffic: not priced here (module docstring); `dsa_warmup.zero3_forward_gather_s` prices them
ZERO3_FORWARD_GATHER = "zero3_forward_gather"


def forward_only_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """One plan's per-layer, end-stage and traffic terms (`step_time`'s, floats) of a forward-only pass: every
    backward term 0; the paired (DualPipe) compute and EP terms the forward's; the LM head's and embedding's
    component sums (`head_compute`, `head_other`, `head_tp`, `embed_other`, `embed_tp`: forward + backward) their
    forward GPU time (`head_gpu_fwd`, `embed_gpu_fwd`, the TP collectives included, counted as compute / other);
    `NO_EVAL_TRAFFIC` 0; the ZeRO-3 forward gathers kept in `ZERO3_FORWARD_GATHER`."""
    out = {k: 0.0 if k.endswith("_bwd") else v for k, v in terms.items()}
    out[ZERO3_FORWARD_GATHER] = terms.get("gather_layers", 0.0)
    out["compute_paired"], out["ep_paired"] = terms["compute_fwd"], terms["ep_fwd"]
    out["head_compute"], out["head_other"], out["head_tp"] = terms["head_gpu_fwd"], 0.0, 0.0
    out["embed_other"], out["embed_tp"] = terms["embed_gpu_fwd"], 0.0
    out.update(dict.fromkeys(NO_EVAL_TRAFFIC, 0.0))
    out.pop(BLOCKING_GATHER, None)  # (Muon's all-gather inside its step: no step, no gather)
    return out
