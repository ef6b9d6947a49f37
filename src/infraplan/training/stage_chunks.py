"""Stage kinds in memory: the model chunks each stage kind holds in flight at its peak under 1F1B and the
interleaved schedule (moved out of training/stage_split.py unchanged, hS46, session 44; `stage_split` re-exports them).

Stage kinds in memory (`one_f_one_b_chunks`, `interleaved_chunks`: `schedules.ScheduleModel.stage_chunks`, read by
`training.memory` through `schedules.stage_in_flight`): five numbers per plan, the first stage's model chunks in
flight at its peak, of them its first chunk's (the embedding's, one layer short where it counts as a layer:
megatron-core 0.16.1 transformer/transformer_block.py:188-193), the second stage's (rank 1, the most of the middle
stages: rank i holds fewer than rank i - 1), the last stage's, and of them its last chunk's (the loss's, :195-198).
A chunk is 1 / v of a stage. The peak is a rank's warm-up forwards plus the first steady-state one
(`get_pp_rank_microbatches`, pipeline_parallel/schedules.py:738-795), for a rank with a short end chunk at the
moment of the steady state holding the fewest of them (checked against a play of the schedule,
tests/training/test_stage_memory.py). `parts`: the numbers asked for (the others may be 0).
"""

from __future__ import annotations

from typing import Any

from infraplan.scalar_path import larger, pick, smaller, to_float

ALL_PARTS = (0, 1, 2, 3, 4)  # of the stage kinds' chunks in flight (`one_f_one_b_chunks`, `interleaved_chunks`)


def one_f_one_b_chunks(pp: Any, vpp: Any, micro_batches: Any,
                        parts: tuple[int, ...] = ALL_PARTS) -> tuple[Any, ...]:
    """`stage_chunks` of 1F1B: stage i holds min(p - i, m) micro-batches (Megatron's warm-up p - i - 1, plus one)."""
    p, m = to_float(pp), to_float(micro_batches)
    first = smaller(p, m) * 1.0
    second = smaller(larger(p - 1.0, 0.0), m) * 1.0 if 2 in parts else 0.0
    last = smaller(1.0, m)
    return first, first, second, last, last


def interleaved_chunks(pp: Any, vpp: Any, micro_batches: Any,
                        parts: tuple[int, ...] = ALL_PARTS) -> tuple[Any, ...]:
    """`stage_chunks` of the interleaved schedule: rank i's warm-up (p - i - 1) 2 + (v - 1) g chunk forwards plus
    one, capped at the m v chunks (megatron-core 0.16.1 pipeline_parallel/schedules.py:773-787,
    `get_pp_rank_microbatches`), in the order of `get_schedule_table` (:798-823): groups of g = p micro-batches
    (`microbatch_group_size_per_vp_stage`'s default, model_parallel_config.py:447-448) run chunk 0, 1, ... v - 1.
    The first rank's first chunk is thus in flight for min(p, m) micro-batches of the first group plus the
    warm-up's reach into the second, up to p more; the last rank's last chunk runs its forward and backward back
    to back, so at its peak (the second group's first forwards) none is held, one when m <= p (no second group).
    Groups of g = m // max(1, m // p) (torch's rounds, `schedule_models.round_size`: g = p at every m Megatron
    accepts): torch's ScheduleInterleaved1F1B order at every m it accepts
    (tests/training/test_torch_schedule_orders.py)."""
    p, v, m = to_float(pp), to_float(vpp), to_float(micro_batches)
    g = m // larger(m // larger(p, 1.0), 1.0)
    total = m * v
    first = smaller((p - 1.0) * 2.0 + (v - 1.0) * g + 1.0, total)
    first_chunk = smaller(first, smaller(g, m)) + smaller(larger(first - v * g, 0.0), g) if 1 in parts else 0.0
    second = smaller(larger((p - 2.0) * 2.0 + (v - 1.0) * g + 1.0, 0.0), total) if 2 in parts else 0.0
    last = smaller((v - 1.0) * g + 1.0, total)
    return first, first_chunk, second, last, pick(m > g, 0.0, 1.0) * 1.0 if 4 in parts else 0.0
