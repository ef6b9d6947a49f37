"""Memory and optimizer of DualPipe / ZB-V ranks on a balanced split (hO44, session 43).

A stack that balances the pipeline split (meta-llama3, deepspeed) priced a schedule whose ranks hold mirrored stages
(DualPipe: rank i holds stages i and p - 1 - i, DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1; ZB-V: chunks i and
2p - 1 - i of 2p, Qi et al. arXiv:2401.10241 sec. 6) on ceil(L / p) layers per copy on every rank, while its step
time paced those ranks on their own balanced split (`mirrored_stages.with_mirrored_pairs`: p / 2 bins of two stages,
or p bins of two chunks, the end bin carrying the embedding and the LM head). Now the memory and the optimizer step
price each rank on that split (`step_time.balanced_split`'s mirrored terms, `stage_params.mirrored_rank_layers`).

Hand cases: a layer's parameters on one GPU P, a table T (V h / TP), the stored activation bytes per token and layer
a (`activation_bytes_per_token_layer`); Megatron's mixed precision under ZeRO-1: 2 B weights + 4 B fp32 gradients
per parameter, 12 B optimizer state over DP.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.training.conftest import META_LLAMA3_TIME, TORCHTITAN_EVEN, overhead_bytes

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import plan_grid, search
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import activation_bytes_per_token_layer, memory_breakdown
from infraplan.training.optimizer_step import mirrored_rank_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import mirrored_rank_layers
from infraplan.training.step_time import balanced_split
from infraplan.training.step_traffic import EndStageTraffic

LLAMA3 = META_LLAMA3_TIME
DUALPIPE, ZB_V = int(Schedule.DUALPIPE), int(Schedule.ZB_V)


def _plan(pp: int, dp: int, schedule: int, tp: int = 8, zero: int = 1, global_batch: int = 2048,
          seq_len: int = 8192) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=global_batch, seq_len=seq_len, recompute=0, zero=zero, dtype=0,
                               attention=0, order=0, sequence_parallel=1, schedule=schedule)


def _zero_one_state(params: float, dp: int) -> float:
    """Weights + fp32 gradients + the optimizer's 12 B over DP (ZeRO-1, the stack's fp32 moments)."""
    return params * 2.0 + params * 4.0 + params * 12.0 / dp


def test_mirrored_rank_layers_split_the_bins_by_hand() -> None:
    """(end rank, middle rank) layers per copy. DualPipe, 126 layers on PP16 = 8 bins of two stages: a middle bin the
    heaviest at 16 (8 per copy) leaves the end bin 126 - 7 x 16 = 14; the end bin the heaviest at 15 leaves the
    middles 111 over 7 = ceil 16. ZB-V on 16 bins: a middle bin of 8 leaves the end 126 - 15 x 8 = 6. DualPipe on PP2
    (one bin, every rank both stages) and one stage: all layers."""
    def layers(pp: int, heaviest: float, end: float, v_shaped: bool) -> tuple[float, float]:
        # (the end bin's tables 2.5 layers of time: its capacity beside them at the pace X - 3, hO46)
        a, b = mirrored_rank_layers(126, float(pp), heaviest, end, v_shaped, 2.5)
        return float(a), float(b)

    assert layers(16, 8.0, 0.0, False) == (7.0, 8.0)
    assert layers(16, 7.5, 0.5, False) == (7.5, 8.0)
    assert layers(16, 8.0, 0.0, True) == (6.0, 8.0)
    assert layers(16, 7.0, 1.0, True) == (7.0, 8.0)  # (the end 7: the middles 119 over 15, ceil 8)
    assert layers(2, 63.0, 0.5, False) == (63.0, 63.0)
    assert layers(1, 126.0, 1.0, False) == (126.0, 126.0)
    arrays = mirrored_rank_layers(126, np.array([16.0, 16.0]), np.array([8.0, 8.0]), np.array([0.0, 0.0]),
                                  np.array([False, True]), np.array([2.5, 2.5]))
    assert [list(map(float, x)) for x in arrays] == [[7.0, 6.0], [8.0, 8.0]]


def test_405b_dualpipe_prices_its_middle_rank_by_hand() -> None:
    """Llama 3 405B, TP8 PP16 DP16, ZeRO-1, meta-llama3 under DualPipe: the step time's pairs are 16 layers on each
    middle rank's two stages and 14 + both tables on the end ranks (8 bins of 126 layers; `with_mirrored_pairs`).
    The peak is a middle rank: 16 P and p + 1 = 17 chunks of its 8-layer stages (DualPipe's "PP+1", dualpipe 1.0.0),
    against rank 0's 14 P + 2 T, 17 x 7 and the logits. Before: 2 x (8 P + T) and 17 x 8 with the logits (rank 0 on
    ceil(L / p) per copy)."""
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(2048).placed(2048)
    plan = _plan(16, 16, DUALPIPE)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    assert split is not None and tuple(map(float, split[3:7])) == (8.0, 0.0, 8.0, 0.0)  # (DualPipe's, ZB-V's)
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    a = float(activation_bytes_per_token_layer(shape, plan.one_row, LLAMA3)) * 8192
    logits = 8192 * shape.vocab_size / 8 * 4.0
    fresh = shape.hidden_size * 2.0 * shape.ffn_hidden_size / 8 * 2.0  # FC1's fresh bf16 wgrad (unfused, hD67)
    middle = _zero_one_state(16 * p, 16) + 17 * 8 * a + fresh
    end = _zero_one_state(14 * p + 2 * t, 16) + 17 * 7 * a + logits + fresh
    assert middle > end
    memory = memory_breakdown(shape, plan, LLAMA3, split)
    assert float(memory["weights"][0]) == pytest.approx(2.0 * 16 * p, rel=1e-12)
    assert float(memory["gradients"][0]) == pytest.approx(4.0 * 16 * p, rel=1e-12)
    assert float(memory["activations"][0]) == pytest.approx(17 * 8 * a + fresh, rel=1e-12)
    total = sum(float(v[0]) for v in memory.values())
    assert total == pytest.approx(middle + overhead_bytes(shape, plan), rel=1e-12)
    before = _zero_one_state(16 * p + 2 * t, 16) + 17 * 8 * a + logits + fresh + overhead_bytes(shape, plan)
    assert sum(float(v[0]) for v in memory_breakdown(shape, plan, LLAMA3, split[:3]).values()) == \
        pytest.approx(before, rel=1e-12)  # (a split without the mirrored terms: ceil(L / p) per copy, as before)
    r = estimate_training("llama3-405b", "meta-genai-roce-24k", 2048, tp=8, pp=16, vpp=1, seq_len=8192,
                          global_batch=2048, zero=1, stack=META_LLAMA3_TIME, schedule="dualpipe")
    assert r.memory_per_gpu_bytes == total  # the product's single estimate, bit for bit


def test_405b_zb_v_prices_its_middle_rank_by_hand() -> None:
    """The same under ZB-V (p bins of two chunks, one copy): middle ranks 8 layers, rank 0 126 - 15 x 8 = 6 + both
    tables; the middle rank's state (8 P, no table) is the peak's, above rank 0's 6 P + 2 T (before: 8 P + 2 T)."""
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(2048).placed(2048)
    plan = _plan(16, 16, ZB_V)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    assert split is not None
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    assert 8 * p > 6 * p + 2 * t
    memory = memory_breakdown(shape, plan, LLAMA3, split)
    assert float(memory["weights"][0]) == pytest.approx(2.0 * 8 * p, rel=1e-12)
    assert float(memory["optimizer"][0]) == pytest.approx(12.0 * 8 * p / 16, rel=1e-12)
    before = memory_breakdown(shape, plan, LLAMA3, split[:3])
    assert float(before["weights"][0]) == pytest.approx(2.0 * (8 * p + 2 * t), rel=1e-12)


def test_optimizer_steps_the_same_ranks() -> None:
    """The optimizer step of a mirrored rank (`optimizer_step.mirrored_rank_params`) on the step time's split: at
    ZeRO 0 the 405B DualPipe middle rank's 16 P (the most: rank 0 holds 2 x (7 P + T)); without the split, rank 0's
    2 x (8 P + T) as before."""
    shape = load_model("llama3-405b")
    plan = _plan(16, 16, DUALPIPE, zero=0).one_row
    ends = EndStageTraffic(shape, plan, lambda *args: [])
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    assert mirrored_rank_params(ends, plan, LLAMA3, FLOAT_OPS, (8.0, 0.0, 0.0)) == pytest.approx(16 * p, rel=1e-12)
    assert mirrored_rank_params(ends, plan, LLAMA3, FLOAT_OPS) == pytest.approx(2 * (8 * p + t), rel=1e-12)


def test_an_even_bin_split_prices_as_before() -> None:
    """GPT-3 175B on PP8 under the deepspeed stack (balanced): 96 layers in 4 DualPipe bins of 24 (8 ZB-V bins of 12)
    is ceil(L / p) = 12 per copy on every rank, so its memory and step time are those of the split without the
    mirrored terms (the rule before), bit for bit; a stack that does not balance has no split at all."""
    shape = load_model("gpt3-175b")
    cluster = Cluster.resolve("dgx-a100-superpod").for_gpus(1024).placed(1024)
    deepspeed = load_stack("deepspeed")
    for schedule in (DUALPIPE, ZB_V):
        plan = _plan(8, 16, schedule, global_batch=1536, seq_len=2048)
        split = balanced_split(shape, cluster, plan, deepspeed)
        assert split is not None and len(split) == 10  # (hO46's term, hO47's capacities)
        assert memory_breakdown(shape, plan, deepspeed, split) == memory_breakdown(shape, plan, deepspeed, split[:3])
    for even in (TORCHTITAN_EVEN, load_stack("deepseek-v3"), load_stack("nemo-26.04")):
        assert balanced_split(shape, cluster, _plan(8, 16, ZB_V), even) is None


def test_bounded_search_with_mirrored_schedules_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """meta-llama3 given DualPipe and ZB-V as well (a stack file a user could write): the branch and bound's memory
    bounds on the rows' split (`memory._bound_layers`: every mirrored schedule's end and middle ranks) keep the
    search's answer and counts those of pricing every plan."""
    stack = LLAMA3.model_copy(update={"pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    monkeypatch.setattr(search, "CHUNK_PLANS", 4099)
    monkeypatch.setattr(search, "BOUND_ROWS", 401)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)  # (the guard's tie band off: the top by time)
    # (no memory margin: the DualPipe plan in the top 7 keeps 4.1 GB of 85.5, below the default 5 %; hY45)
    # top 10 (was 7): since session 51 Hopper's 0.43 ceiling is read in Table 4's causal count (hF51), and the
    # plans at the ceiling's time (1.984 s) are eight DualPipe ones before the first ZB-V
    asked = {"top": 10, "stack": stack, "schedules": ["dualpipe", "zb-v"], "memory_margin": 0.0}
    bounded = search.search_plans("llama3-8b", "dgx-h100-superpod", 64, 8192, 128, **asked)  # type: ignore[arg-type]
    monkeypatch.undo()
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)
    every = search.search_plans("llama3-8b", "dgx-h100-superpod", 64, 8192, 128, **asked)  # type: ignore[arg-type]
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == \
        [r.model_dump(exclude={"train_command"}) for r in every.top]
    # both mirrored schedules among the top (the bounds' cases); since hN51's per-link ring steps a 1F1B plan at the
    # ceiling's time is among the ten as well
    assert {"dualpipe", "zb-v"} <= {r.config.schedule for r in every.top}
