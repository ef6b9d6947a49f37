"""Mutation wave hM22 (session 45): `training.pipeline_partition`'s DP port, each stage's own phases and ZB-V's ties.

DeepSpeed answers: DeepSpeed 0.14.4 runtime/utils.py:583-621 `partition_balanced`, its source copied verbatim from the
PyPI sdist and run on the vectors below (the expected boundaries are its answers, not this port's). The phase and
rank expectations are hand sums of `phase_seconds`'s documented terms (per phase max(GPU, host), the forward and the
backward added) on times chosen as distinct powers of two, so that a lost or swapped term changes the sum.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.training.pipeline_partition import (
    partition_balanced,
    partitioned_stage,
    phase_paced_stage,
    phase_seconds,
    v_cut_ranks,
    v_paced_rank,
)

# (weights, parts) -> DeepSpeed 0.14.4 partition_balanced's boundaries, printed by its own function
DEEPSPEED_ANSWERS = [
    (([0, 0, 5], 2), [0, 2, 3]),  # zero-weight items: the spread of (0, 5) either way; DeepSpeed's latest cut
    (([0, 1, 0, 5, 1, 0, 1], 3), [0, 3, 4, 7]),
    (([3, 5, 1, 0, 0, 2, 0, 2], 3), [0, 1, 2, 8]),
    (([0.25, 0.5, 0.25, 0.25], 3), [0, 1, 2, 4]),  # weights below 1: the first part's max starts at 0, not 1
    (([0.5, 0.5, 0.25, 0, 0.25, 0.5], 3), [0, 1, 4, 6]),
]


@pytest.mark.parametrize(("case", "answer"), DEEPSPEED_ANSWERS)
def test_partition_balanced_gives_deepspeeds_answers_on_zero_and_small_weights(
        case: tuple[list[float], int], answer: list[int]) -> None:
    weights, parts = case
    assert partition_balanced([float(w) for w in weights], parts) == answer


def _times(**given: float) -> dict[str, float]:
    """Every phase term 0 but those given (`phase_seconds`'s keys); the backward the forward's double."""
    keys = ("compute", "tp", "cp", "ep", "other", "head_gpu", "embed_gpu", "host", "head_host", "embed_host")
    out: dict[str, float] = {}
    for k in keys:
        out[f"{k}_fwd"] = given.get(k, 0.0)
        out[f"{k}_bwd"] = 2.0 * given.get(k, 0.0)
    return out


def test_a_layer_s_gpu_work_adds_every_parallel_term() -> None:
    """GPU-bound: 3 layers of 1 + 2 + 4 + 8 + 16 = 31 and one embedding of 64 (no head): forward 157, the
    backward twice that: 471."""
    times = _times(compute=1.0, tp=2.0, cp=4.0, ep=8.0, other=16.0, head_gpu=128.0, embed_gpu=64.0)
    assert phase_seconds(times, 3.0, 1.0, 0.0, 0.0, 0.0) == pytest.approx(3 * 3 * 31 + 3 * 64)


def test_the_head_s_host_time_is_counted_per_head() -> None:
    """Host-bound: 3 layers of host 1, one head of host 16, no embedding (its host 256 unused): forward 19,
    backward 38."""
    times = _times(host=1.0, head_host=16.0, embed_host=256.0)
    assert phase_seconds(times, 3.0, 0.0, 1.0, 0.0, 0.0) == pytest.approx(3 * 19)


def _one(x: object) -> float:
    """One plan's value, from a float or a one-plan array."""
    return float(np.asarray(x).reshape(-1)[0])


ENDS = (2.0, 3.0, 2.0)  # (first, most on a middle stage, last) decoder layers of a 4-stage cut


@pytest.mark.parametrize("pp", [4.0, np.array([4.0])])
def test_the_first_stage_paces_on_its_embedding(pp: float | np.ndarray) -> None:
    """Layers of 1 per phase, an embedding of 5: first 2 + 5 = 7 per phase, 21 over both phases (backward
    double), middle 3 x 3 = 9, last 2 x 3 = 6: the first paces; one plan's floats and an array of plans alike."""
    seconds, layers, is_last, is_first = phase_paced_stage(pp, ENDS, _times(compute=1.0, embed_gpu=5.0), 0.0, 0.0)
    assert (_one(seconds), _one(layers), bool(_one(is_last)), bool(_one(is_first))) == (21.0, 2.0, False, True)


@pytest.mark.parametrize("pp", [4.0, np.array([4.0])])
def test_the_last_stage_paces_on_its_head(pp: float | np.ndarray) -> None:
    """Layers of 1 per phase, a head of 5: last 2 + 5 = 7 per phase, 21 over both phases (backward double):
    the last paces, not the middle's 3 x 3 = 9."""
    seconds, layers, is_last, is_first = phase_paced_stage(pp, ENDS, _times(compute=1.0, head_gpu=5.0), 0.0, 0.0)
    assert (_one(seconds), _one(layers), bool(_one(is_last)), bool(_one(is_first))) == (21.0, 2.0, True, False)


def test_an_array_of_plans_names_the_last_stage_s_layers() -> None:
    """first 8 layers (8 s), middle 9 (9 s), last 6 beside a 10 s head (16 s): the last paces with its 6."""
    seconds, layers, is_last, is_first = partitioned_stage(np.array([4.0]), np.array([8.0]), np.array([9.0]),
                                                           np.array([6.0]), 1.0, 0.0, 10.0)
    assert (float(seconds[0]), float(layers[0]), bool(is_last[0]), bool(is_first[0])) == (16.0, 6.0, True, False)


def test_one_stage_of_a_v_cut_holds_every_layer() -> None:
    """PP 1: no pipeline, all 32 layers on the one rank and no other rank."""
    assert v_cut_ranks(32, 1) == (32.0, 0.0)


@pytest.mark.parametrize("pp", [4.0, np.array([4.0])])
def test_a_tie_between_rank_0_and_the_fullest_rank_goes_to_the_fullest(pp: float | np.ndarray) -> None:
    """llama3-8b PP4 under ZB-V: torchtitan cuts 34 units over 8 stages 5, 5, 4, ... less the embedding and the
    head: 4 / 5 / 4 / 4 / 4 / 4 / 4 / 3, so rank 0 holds 4 + 3 = 7 layers and rank 1 5 + 4 = 9. Layers of 1 per
    phase and an embedding and a head of 1 each: rank 0's 7 + 1 + 1 = 9 ties rank 1's 9, and the documented tie goes
    to the rank of the most layers (no head, no embedding on it): 27 s over both phases."""
    seconds, layers, head_share, embed_share = v_paced_rank(32, pp, _times(compute=1.0, head_gpu=1.0, embed_gpu=1.0),
                                                            0.0, 0.0)
    assert (_one(seconds), _one(layers), _one(head_share), _one(embed_share)) == (27.0, 9.0, 0.0, 0.0)
