"""In-run evaluation: the forward-only batches a benchmark's wall clock includes, priced at the run's own plan.

An evaluation of `eval_samples` sequences runs whole global batches of the plan's micro-batches and, for the rest,
one batch of the micro-batches it fills (`evaluation_s`); each batch is the step model's forward-only pass
(`step_time.one_plan_step_time(..., forward_only=True)` on `forward_pass.forward_only_terms`). MLPerf Training counts
it: its time to train is run_start to run_stop, the evaluations included (the MLLOG result files of
mlcommons/training_results_v3.0), one evaluation after every ceil(interval / global batch) steps
(`with_evaluation_rate`). A planned run (`train --tokens T --eval-every N --eval-samples S`,
`planning.training_run`) pays the same evaluation after the same number of steps (`in_run_evaluation`), one at the
end of every whole interval it trains: the runner's rate and the run's agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infraplan.errors import InputError
from infraplan.limits import MAX_TRAINING_TOKENS
from infraplan.training.forward_pass import FORWARD_COMPONENTS
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.step_time import one_plan_step_time
from infraplan.units import TOKEN_WORDS, counted, parse_count, parse_tokens

if TYPE_CHECKING:
    from infraplan.catalog.schemas import System
    from infraplan.cluster import Cluster
    from infraplan.training.estimate import TrainingPoint
    from infraplan.training.results import PlanConfig

_UNITS = {"": "sequences", "seq": "sequences", "seqs": "sequences", "sequence": "sequences", "sequences": "sequences",
          "sample": "sequences", "samples": "sequences", **dict.fromkeys(TOKEN_WORDS, "tokens"),
          "step": "steps", "steps": "steps"}


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
    steps = evaluation_steps(interval_samples, global_batch)
    return steps * step_time_s / (steps * step_time_s + eval_s)


def evaluation_steps(interval_samples: int, global_batch: int) -> int:
    """Training steps between two evaluations: ceil(interval / global batch), the whole steps MLPerf's RCPs imply."""
    return -(-int(interval_samples) // int(global_batch))


def read_sequences(text: str, option: str, seq_len: int, global_batch: int) -> int:
    """`--eval-every` / `--eval-samples` as a user writes them, in sequences: a count ('24576', '24.576k') or a count
    and a unit, 'sequences' (the default; 'samples', MLPerf's word), 'tokens' (whole sequences of `seq_len`,
    rounded up) or 'steps' (global batches, Megatron's --eval-interval / --eval-iters unit). Positive, one line if
    not."""
    parts = str(text).split()  # a count and one unit word, or the whole text a count ('' and '12 steps x' refused:
    # hI55, an IndexError and a silent 12 sequences before)
    number, word = (parts[0], parts[1].lower()) if len(parts) == 2 and parts[1].lower() in _UNITS else (str(text), "")
    try:
        value = parse_tokens(str(text)) if _UNITS[word] == "tokens" else parse_count(number)  # tokens as --tokens
    except InputError:
        raise InputError(f"{option} takes a count of sequences, tokens or steps (24576, 50M tokens, 12 steps), "
                         f"got {str(text)[:40]!r}") from None
    unit = _UNITS[word]
    sequences = value / seq_len if unit == "tokens" else value * global_batch if unit == "steps" else value
    if not 0 < sequences * seq_len <= MAX_TRAINING_TOKENS:
        # the limit is in tokens, the count in sequences (or steps): say the tokens it came to (hI61: "at most 1e+15
        # tokens, got '1e12'" for 1e12 sequences of 4,096, 4.1e15 tokens)
        came = (f" ({sequences * seq_len:.3g} tokens: sequences of {seq_len:,})"
                if unit != "tokens" and sequences > 0 else "")
        raise InputError(f"{option} must be positive and at most {MAX_TRAINING_TOKENS:.0e} tokens, got {text!r}"
                         f"{came}")
    return max(1, math.ceil(sequences - 1e-9))


@dataclass(frozen=True)
class InRunEvaluation:
    """A run's periodic evaluation: `eval_samples` sequences, `seconds` each at the run's plan, after every
    `steps_between` training steps (`evaluation_steps` of `every_sequences`)."""

    every_sequences: int
    eval_samples: int
    steps_between: int
    seconds: float


def plan_point(model: str, system: str | System | Cluster, config: PlanConfig, stack: str | None = None,
               sharp: bool = False) -> TrainingPoint:
    """The resolved point of a priced plan (`estimate.resolve_training` at its config): the one a case's or a
    run's evaluation is priced at."""
    from infraplan.training.estimate import resolve_training  # estimate prices steps; this module only reads one

    c = config
    return resolve_training(model, system, c.gpus, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=c.vpp,
                            seq_len=c.seq_len, global_batch=c.global_batch, micro_batch=c.micro_batch,
                            recompute=c.recompute, zero=c.zero, dtype=c.dtype, attention=c.attention, order=c.order,
                            sequence_parallel=c.sequence_parallel, schedule=c.schedule, stack=stack, etp=c.etp,
                            recompute_layers=c.recompute_layers, offload_layers=c.offload_layers, sharp=sharp,
                            zero_shard=c.zero_shard or None)


def in_run_evaluation(point: TrainingPoint, every_sequences: int, eval_samples: int) -> InRunEvaluation:
    """The evaluation `with_evaluation_rate` prices, at a resolved point: its seconds and the steps between two."""
    global_batch = int(point.plan.one_row.global_batch)
    return InRunEvaluation(every_sequences, eval_samples, evaluation_steps(every_sequences, global_batch),
                           evaluation_s(point, eval_samples))


def evaluations_in_run(tokens: float, step_tokens: int, steps_between: int) -> int:
    """Evaluations a run of `tokens` pays: one at the end of every whole interval of `steps_between` steps of
    `step_tokens` (MLPerf's runs end at one: each v3.0 GPT-3 run's MLLOG token count is whole intervals)."""
    return math.floor(tokens / (steps_between * step_tokens) + 1e-9)


def no_evaluation_note(tokens: float, step_tokens: int, steps_between: int) -> str | None:
    """The note of a run shorter than one interval of `steps_between` steps: it pays no evaluation, said (an
    --eval-every beyond the run priced 0 evaluations without a word: hW70); None where one runs."""
    if evaluations_in_run(tokens, step_tokens, steps_between):
        return None
    return (f"--eval-every is {counted(steps_between, 'step')} of {step_tokens:,} tokens, longer than the run's "
            f"{tokens / step_tokens:,.0f} steps: no evaluation runs (one at the end of every whole interval)")


def eval_options(eval_every: str | None, eval_samples: str | None, tokens: str | None, seq_len: int,
                 global_batch: int) -> tuple[int, int] | None:
    """`train`'s --eval-every / --eval-samples (the web's eval_every / eval_samples) read into sequences, or None
    where neither is given; given apart, or without --tokens, one line."""
    if eval_every is None and eval_samples is None:
        return None
    if eval_every is None:
        raise InputError("--eval-samples needs --eval-every (how often the run evaluates)")
    if eval_samples is None:
        raise InputError("--eval-every needs --eval-samples (the sequences one evaluation runs)")
    if tokens is None:
        raise InputError("--eval-every and --eval-samples need --tokens (the run they evaluate in)")
    return (read_sequences(eval_every, "--eval-every", seq_len, global_batch),
            read_sequences(eval_samples, "--eval-samples", seq_len, global_batch))
