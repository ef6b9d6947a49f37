"""The note of a plan whose global batch is too small to keep its GPUs busy (hF57's leftover, issue 12 item 7).

A step's global batch B is DP x micro-batch x m sequences (m micro-batches per pipeline), so a batch below the GPU
count forces model parallelism: at B = 1 every plan has DP 1 and TP x CP x PP = the GPU count (`search deepseek-v3
--system gb200-nvl72 --gpus 512 --global-batch 1 --seq-len 4096` answered TP 64 x PP 8 at 0.5 % MFU with no line
saying why). In a pipeline each micro-batch's forward and backward run on one stage at a time (1F1B, interleaved,
DualPipe; `training.schedule_models`: with m < p the bubble is (p - m) stage times more than at m = p), so with
m < PP micro-batches at most m of the PP stages work at any instant: at most GPUs x m / PP of the GPUs run a
forward or backward pass; the rest wait (a zero-bubble schedule's deferred weight-gradient passes, Qi et al. 2023
arXiv:2401.10241, may fill some of the wait, said where the plan runs one). The note says so with the plan's MFU
against its precision's published ceiling (the search guard's, `catalog.published_mfu`, in the figure's FLOP
convention, as `results.published_mfu_flag` compares them) and the batch that gives this plan's pipeline m = PP
(DP x micro-batch x PP sequences): the smallest batch at which every stage can hold a micro-batch. What MFU a larger
batch reaches is not computed here: the best plan at another batch is another plan (a search at that batch says
it); pricing it would cost a second search on every small-batch question.
`train` (`estimate.finish_training`) and `search` (of its best plan) say the same note of the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infraplan.catalog.published_mfu import PublishedMfu

__all__ = ["idle_batch_notes"]

ZERO_BUBBLE = ("zb-h1", "zb-v")  # schedules whose weight-gradient passes are deferred (`enums.Schedule`)


def idle_batch_notes(config: Mapping[str, Any], mfu: float, ceiling: PublishedMfu | None,
                     causal_ratio: float = 1.0) -> list[str]:
    """The idle-GPU note of a plan (`PlanConfig` fields) whose pipeline has fewer micro-batches than stages; [] when
    every stage can hold one (m >= PP, or no pipeline). `mfu` in `training.flops.MODEL_FLOP_CONVENTION`, compared
    with `ceiling` in the figure's convention (`causal_ratio` where it counts the causal half of the scores)."""
    pp, m = int(config["pp"]), int(config["micro_batches"])  # (no generator: read on every estimate)
    gpus, batch = int(config["gpus"]), int(config["global_batch"])
    if pp <= 1 or m >= pp:
        return []
    dp, tp, cp, mb = (int(config[k]) for k in ("dp", "tp", "cp", "micro_batch"))
    busy = gpus * m // pp  # (DP pipelines x m stages x TP x CP x the ranks EP folds over them)
    seqs = f"{batch:,} sequence{'s' if batch != 1 else ''}"
    pipes = f"{dp:,} pipeline{'s' if dp != 1 else ''}"
    zb = (" (its zero-bubble schedule's deferred weight-gradient passes may fill some of the wait)"
          if config.get("schedule") in ZERO_BUBBLE else "")
    if ceiling is None:
        against = f"MFU {mfu:.1%}"
    else:
        rule = f"the published ceiling of {config['dtype']} on {ceiling.family} ({ceiling.mfu:.1%})"
        against = (f"MFU {mfu:.1%} ({mfu * causal_ratio:.1%} counting the causal half of the scores, as {rule} does)"
                   if ceiling.flop_convention == "causal_scores" else f"MFU {mfu:.1%} against {rule}")
    return [f"global batch {seqs} across {gpus:,} GPUs keeps at most {busy:,} of them busy: this plan splits it "
            f"over {pipes} of TP {tp} x CP {cp} x PP {pp} (DP x micro-batch divides the batch), each with {m} "
            f"micro-batch{'es' if m != 1 else ''} for {pp} stages, and a stage without a micro-batch waits{zb}; "
            f"{against}; a global batch of {dp * mb * pp:,} sequences (DP {dp} x micro-batch {mb} x PP {pp}) or more "
            "gives every stage of this plan a micro-batch (what a larger batch reaches is a search at that batch: "
            "its best plan is another plan)"]
