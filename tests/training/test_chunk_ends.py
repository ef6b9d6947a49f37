"""Ranks that hold several pipeline chunks price the chunks they hold, with the model's ends where the schedule puts
them: ZB-V cuts the model into 2p chunks and puts chunks i and 2p-1-i on rank i (Qi et al., arXiv:2401.10241
sec. 6; torch 2.13.0 torch/distributed/pipelining/_utils.py:528-543, `generate_stage_to_rank_mapping(style="v")`,
used by ScheduleZBVZeroBubble, schedules.py:3427-3428), so rank 0 runs the embedding and the LM head + loss of every
micro-batch; interleaving puts chunk j on rank j mod p (the "loop" style, :525-527; Megatron's virtual pipeline),
the embedding on rank 0 and the head on rank p-1, as the 1F1B split's end stages.

The rank sums below come from torch's mapping transcribed, over chunks of hand-counted layers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training.enums import Dtype, RankOrder, Recompute, Schedule
from infraplan.training.estimate import evaluate_plans
from infraplan.training.memory import memory_breakdown
from infraplan.training.mirrored_stages import v_shape_stage, with_mirrored_pairs
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.search_bounds import step_time_floor_s
from infraplan.training.stage_split import heaviest_stage

TORCHTITAN = TORCHTITAN_EVEN


def _torch_stage_to_rank(pp_size: int, num_stages: int, style: str) -> dict[int, int]:
    """torch 2.13.0 pipelining/_utils.py:515-546 `generate_stage_to_rank_mapping`, transcribed."""
    mapping = {}
    if style == "loop":
        for stage_index in range(num_stages):
            mapping[stage_index] = stage_index % pp_size
        return mapping
    rank_index = 0
    for stage_index in range(num_stages):
        mapping[stage_index] = rank_index
        if (stage_index + 1) % pp_size == 0:  # the border keeps the rank (the V's turn)
            continue
        rank_index += 1 if (stage_index // pp_size) % 2 == 0 else -1
    return mapping


def _rank_seconds(p: int, chunks: int, layers: list[int], e: float, h: float, style: str) -> list[float]:
    """Each rank's seconds per micro-batch: its chunks' layers (1 s each), the embedding on chunk 0, the LM head +
    loss on the last chunk."""
    ranks = [0.0] * p
    for chunk, rank in _torch_stage_to_rank(p, chunks, style).items():
        ranks[rank] += layers[chunk] + (e if chunk == 0 else 0.0) + (h if chunk == chunks - 1 else 0.0)
    return ranks


def test_zb_v_rank_zero_runs_the_embedding_and_the_head_of_every_micro_batch() -> None:
    """8 layers on PP2 in 4 chunks of 2 (torch's V: rank 0 chunks 0 and 3, rank 1 chunks 1 and 2), embedding
    0.5 s, head 2 s: rank 0 (2 + 0.5) + (2 + 2) = 6.5 s, rank 1 4 s. The 1F1B split's heaviest stage (what ZB-V
    was priced on) is the last, 4 + 2 = 6 s: rank 0's embedding was missing."""
    assert _torch_stage_to_rank(2, 4, "v") == {0: 0, 1: 1, 2: 1, 3: 0}
    assert _rank_seconds(2, 4, [2, 2, 2, 2], 0.5, 2.0, "v") == [6.5, 4.0]
    assert heaviest_stage(8, 2.0, 1.0, 0.5, 2.0, "even")[0] == 6.0
    assert v_shape_stage(8, 2.0, 1.0, 0.5, 2.0, "even") == (6.5, 4.0, 1.0, 1.0)
    arrays = v_shape_stage(8, np.array([2.0, 2.0]), np.array([1.0, 1.0]), 0.5, 2.0, "even")
    assert [a.tolist() for a in arrays] == [[6.5] * 2, [4.0] * 2, [1.0] * 2, [1.0] * 2]


@pytest.mark.parametrize("p", [2, 3, 4, 5, 6])
def test_zb_v_heaviest_rank_is_torchs_v_mapping_at_every_pp(p: int) -> None:
    """Chunks of 3 layers (L = 6p), with and without the embedding / loss counted as a layer (then the end chunks
    hold 2): the heaviest rank of torch's V mapping is `v_shape_stage`'s, floats and arrays alike."""
    for emb, loss in ((False, False), (True, True), (True, False)):
        per = -(-(6 * p + emb + loss) // (2 * p))
        layers = [per] * (2 * p)
        layers[0] -= emb
        layers[-1] -= loss
        for e, h in ((0.0, 0.0), (0.5, 2.0), (2.0, 0.5), (7.0, 9.0)):
            ranks = _rank_seconds(p, 2 * p, layers, e, h, "v")
            seconds, held, head, embed = v_shape_stage(6 * p, float(p), 1.0, e, h, "even", emb, loss)
            assert seconds == max(ranks)
            on_zero = ranks[0] >= max(ranks[1:])
            assert (head, embed) == ((1.0, 1.0) if on_zero else (0.0, 0.0))
            assert held == (layers[0] + layers[-1] if on_zero else 2 * per)
            grid = v_shape_stage(6 * p, np.array([float(p)]), np.array([1.0]), e, h, "even", emb, loss)
            assert [float(a[0]) for a in grid] == [seconds, held, head, embed]


def test_zb_v_balanced_split_puts_both_ends_in_one_bin() -> None:
    """8 layers of 1 s on PP4, embedding 0.5 s, head 3 s. 1F1B's balanced split: 2 + 0.5, 3, 3, 0 + 3: 3 s. ZB-V's
    rank 0 holds both ends (3.5 s with no layer), the other 3 ranks 8 layers: 3 + 3 + 2: 3.5 s on rank 0."""
    assert heaviest_stage(8, 4.0, 1.0, 0.5, 3.0, "balanced")[0] == 3.0
    assert v_shape_stage(8, 4.0, 1.0, 0.5, 3.0, "balanced") == (3.5, 0.0, 1.0, 1.0)
    arrays = v_shape_stage(8, np.array([4.0]), np.array([1.0]), 0.5, 3.0, "balanced")
    assert [float(a[0]) for a in arrays] == [3.5, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("p", [2, 4, 8])
@pytest.mark.parametrize("v", [2, 3, 4])
def test_interleaved_ranks_add_up_to_the_one_f_one_b_split(p: int, v: int) -> None:
    """torch's loop mapping (Megatron's virtual pipeline: chunk j on rank j mod p) puts the embedding on rank 0 and
    the head on rank p - 1, each rank the sum of its v chunks: the 1F1B split's stages, which the interleaved plans
    are priced on (`with_stage_split`), unchanged."""
    for e, h in ((0.0, 0.0), (0.5, 2.0), (3.0, 0.25), (7.0, 9.0)):
        ranks = _rank_seconds(p, p * v, [2] * (p * v), e, h, "loop")
        assert heaviest_stage(2 * p * v, float(p), 1.0, e, h, "even")[0] == max(ranks)


def _times(n: int) -> dict[str, np.ndarray]:
    zero = np.zeros(n)
    times = {f"{part}_{ph}": zero for part in ("compute", "tp", "cp", "ep", "other") for ph in ("fwd", "bwd")}
    return times | {"compute_fwd": np.full(n, 0.4), "compute_bwd": np.full(n, 0.6), "host_fwd": zero,
                    "host_bwd": zero, "head_gpu_fwd": np.full(n, 1.0), "head_gpu_bwd": np.full(n, 2.0),
                    "head_host_fwd": zero, "head_host_bwd": zero, "embed_gpu_fwd": np.full(n, 0.25),
                    "embed_gpu_bwd": np.full(n, 0.25), "embed_host_fwd": zero, "embed_host_bwd": zero}


def test_zb_v_plans_take_rank_zeros_chunks_and_both_ends() -> None:
    """`with_mirrored_pairs` on a layer of 1 s, head 3 s, embedding 0.5 s (llama3-8b: 32 layers, PP4 = 8 chunks of 4,
    torchtitan's even split): a ZB-V plan's rank 0 holds 8 layers, the whole head and the whole embedding
    (8 + 3 + 0.5 > 8), the other ranks 24 layers and no end; a DualPipe plan keeps its halves, a 1F1B plan the
    split's terms."""
    shape = load_model("llama3-8b")
    zero = np.zeros(3)
    split = {"stage_layers": np.full(3, 8.0), "last_is_heaviest": np.ones(3), "first_is_heaviest": zero,
             "other_layers": np.full(3, 24.0), "mtp_stage": zero, "mtp_other": zero}
    out = with_mirrored_pairs(shape, TORCHTITAN, _times(3) | split, np.array([4, 4, 4]),
                              np.array([False, True, False]), np.array([True, False, False]))
    assert out["stage_layers"].tolist() == [8.0, 8.0, 8.0]
    assert out["last_is_heaviest"].tolist() == [1.0, 0.5, 1.0]
    assert out["first_is_heaviest"].tolist() == [1.0, 0.5, 0.0]
    assert out["other_layers"].tolist() == [24.0, 24.0, 24.0]
    one = with_mirrored_pairs(shape, TORCHTITAN, {k: v[:1] for k, v in (_times(3) | split).items()}, 4.0, False,
                              True)
    assert (one["stage_layers"], one["last_is_heaviest"], one["first_is_heaviest"]) == (8.0, 1.0, 1.0)


def _zb_v_plans() -> PlanArrays:
    return PlanArrays.build(tp=[2, 2, 1], pp=[4, 2, 8], dp=[8, 16, 8], cp=1, ep=1, vpp=2, micro_batch=1,
                            global_batch=256, seq_len=8192, recompute=int(Recompute.SELECTIVE), zero=1,
                            dtype=int(Dtype.BF16), order=int(RankOrder.TP_CP_DP_PP), schedule=int(Schedule.ZB_V))


def test_zb_v_step_prices_rank_zeros_embedding_and_one_plan_equals_its_grid_row() -> None:
    """llama3-8b under torchtitan: the ZB-V step is the heavier for rank 0's embedding (the same plan at 1F1B's
    split held only the head's stage), and a plan priced alone gives the bits of its row in a grid."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    plans = _zb_v_plans()
    grid = evaluate_plans(shape, cluster, plans, TORCHTITAN)["step_time_s"]
    for i in range(len(plans)):
        alone = evaluate_plans(shape, cluster, plans.take([i]), TORCHTITAN)["step_time_s"]
        assert float(alone[0]) == float(grid[i])


def test_search_floor_holds_for_zb_v_plans() -> None:
    """The search's per-row floor (the 1F1B split's heaviest stage) stays at or below every ZB-V plan of its row:
    rank 0 holds both ends and two chunks of ceil(L / 2p) layers, no less than a 1F1B end stage."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 64, 8192, 256, ["bf16"], max_tp=8, schedules=["zb-v"])
    plans = plans.take(valid_mask(shape, plans, rules="torch") & (plans.schedule == int(Schedule.ZB_V)))
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), int(Schedule.ONE_F_ONE_B)))
    floor = step_time_floor_s(shape, cluster, rows, TORCHTITAN)
    step = evaluate_plans(shape, cluster, plans, TORCHTITAN)["step_time_s"]
    assert len(plans) > 50 and np.all(floor <= step)


def test_zb_v_rank_zero_holds_the_losss_fp32_logits() -> None:
    """Rank 0 runs chunk 2p-1's loss forward and backward back to back (the V's turn): the fp32 logits of one
    micro-batch (megatron-core tensor_parallel/cross_entropy.py, as the 1F1B last stage) beside its p micro-batches
    in flight. llama3-8b, TP2 PP2, no recompute: ZB-V's activations are 1F1B's first stage's (2 micro-batches of
    16 layers) plus 8192 x 128256 / 2 x 4 B of logits; before, none anywhere."""
    shape = load_model("llama3-8b")
    kw = dict(tp=2, pp=2, dp=16, cp=1, ep=1, micro_batch=1, global_batch=256, seq_len=8192, recompute=0, zero=1,
              dtype=0)
    zb_v = memory_breakdown(shape, PlanArrays.build(vpp=2, schedule=int(Schedule.ZB_V), **kw), TORCHTITAN)
    plain = memory_breakdown(shape, PlanArrays.build(vpp=1, schedule=int(Schedule.ONE_F_ONE_B), **kw), TORCHTITAN)
    logits = 8192 * shape.vocab_size / 2 * 4.0
    assert float(zb_v["activations"][0] - plain["activations"][0]) == pytest.approx(logits, rel=1e-12)
