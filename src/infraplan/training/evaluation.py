"""In-run evaluation: the forward-only batches a benchmark's wall clock includes, priced at the run's own plan.

An evaluation of `eval_samples` sequences runs whole global batches of the plan's micro-batches and, for the rest,
one batch of the micro-batches it fills (`evaluation_s`); each batch is the step model's forward-only pass
(`step_time.one_plan_step_time(..., forward_only=True)` on `forward_pass.forward_only_terms`). MLPerf Training counts
it: its time to train is run_start to run_stop, the evaluations included (the MLLOG result files of
mlcommons/training_results_v3.0), one evaluation after every ceil(interval / global batch) steps
(`with_evaluation_rate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infraplan.training.forward_pass import FORWARD_COMPONENTS
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.step_time import one_plan_step_time

if TYPE_CHECKING:
    from infraplan.training.estimate import TrainingPoint


def forward_batch_s(point: TrainingPoint, micro_batches: int) -> float:
    """Seconds of one forward-only batch of `micro_batches` micro-batches per pipeline at a resolved one-plan point
    (`estimate.resolve_training`'s): the forward components, the p2p chain's forward half."""
    row = point.plan.one_row
    columns = {name: int(getattr(row, name)) for name in PLAN_FIELDS}
    columns["global_batch"] = micro_batches * int(row.dp) * int(row.micro_batch)
    out = one_plan_step_time(point.shape, point.cluster, PlanArrays.build(**columns), point.profile,
                             forward_only=True)
    out["pp_comm"] = 0.5 * out["pp_comm"]  # the forward half of the chain (no tied-embedding sync: 0 above)
    return float(sum(out[k] for k in FORWARD_COMPONENTS))


def evaluation_s(point: TrainingPoint, eval_samples: int) -> float:
    """Seconds of one evaluation over `eval_samples` sequences at the point's plan: whole global batches of its
    micro-batches, then one batch of the micro-batches the rest fills (ceil(rest / (DP x micro-batch)))."""
    row = point.plan.one_row
    per_micro_batch = int(row.dp) * int(row.micro_batch)
    whole, rest = divmod(int(eval_samples), int(row.micro_batches) * per_micro_batch)
    seconds = whole * forward_batch_s(point, int(row.micro_batches)) if whole else 0.0
    if rest:
        seconds += forward_batch_s(point, -(-rest // per_micro_batch))
    return seconds


def with_evaluation_rate(step_time_s: float, global_batch: int, eval_s: float, interval_samples: int) -> float:
    """The share of the wall clock that trains when an evaluation of `eval_s` seconds follows every
    ceil(interval_samples / global_batch) steps (the step count MLPerf evaluates at: mlperf-logging's RCPs converge
    only at multiples of the interval, `validation/notes`): k steps' time over k steps' plus one evaluation."""
    steps = -(-int(interval_samples) // int(global_batch))
    return steps * step_time_s / (steps * step_time_s + eval_s)
