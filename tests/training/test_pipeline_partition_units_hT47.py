"""torchtitan's pipeline split as it runs (`Stack.pipeline_partition` "units", `training.pipeline_partition`; hT47).

torchtitan 0.3.0 counts the embedding and the final norm + output as one layer-unit each and cuts the L + 2 units
evenly, the remainder one each on the first stages (distributed/pipeline_parallel.py:366-476): llama3-8b PP4 builds
8 / 9 / 8 / 7 layers, where the torchtitan stack priced Megatron's even split (8 on every stage, the head on top of
the last's) before. `_torchtitan_fqns` below is torchtitan's `_generate_llm_fqn_per_model_part` transcribed line for
line (its checks and the single-stage case kept); the expected tables are what torchtitan's own function, run from
the PyPI wheel's source, printed (`/tmp/hT47/verify.py`, session 44: 91 model x PP x VPP cases agree), not this
port's output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.test_metamorphic_hX1_hardware import train, what_if

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.memory import kind_layers
from infraplan.training.pipeline_partition import (
    partition_end_layers,
    partition_stage_layers,
    partitioned_stage,
    phase_paced_stage,
    torchtitan_stage_layers,
    v_cut_ranks,
    v_paced_rank,
)
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import balanced_split

TORCHTITAN = load_stack("torchtitan")
TIMED = TORCHTITAN.model_copy(update={"pipeline_partition": "time"})
TORCHTITAN_EVEN = TORCHTITAN.model_copy(update={"pipeline_split": "even", "pipeline_partition": None})  # (before)


def _torchtitan_fqns(num_stages: int, num_layers: int, input_weight: int = 1,
                     output_weight: int = 1) -> list[list[str]]:
    """torchtitan 0.3.0 torchtitan/distributed/pipeline_parallel.py:366-476, transcribed (docstring dropped)."""
    if num_stages < 1:
        raise ValueError("Number of stages must be at least 1")
    if num_stages == 1:
        return [["tok_embeddings"] + [f"layers.{i}" for i in range(num_layers)] + ["norm", "lm_head"]]
    num_effective_layers = num_layers + input_weight + output_weight
    if num_stages > num_effective_layers:
        raise ValueError("Number of stages cannot be greater than effective layers")
    layers_per_stage = num_effective_layers // num_stages
    extra_layers = num_effective_layers % num_stages
    if layers_per_stage == 0:
        raise ValueError("Configuration would result in empty stages.")
    if input_weight > layers_per_stage:
        raise ValueError("input_weight exceeds minimum layers per stage")
    if output_weight > layers_per_stage:
        raise ValueError("output_weight exceeds minimum layers per stage")
    module_names_per_stage = []
    current_layer = 0
    for stage_idx in range(num_stages):
        stage_modules = []
        effective_layers_for_stage = layers_per_stage
        if stage_idx < extra_layers:
            effective_layers_for_stage += 1
        if stage_idx == 0:
            stage_modules.append("tok_embeddings")
            for _ in range(effective_layers_for_stage - input_weight):
                if current_layer < num_layers:
                    stage_modules.append(f"layers.{current_layer}")
                    current_layer += 1
        elif stage_idx == num_stages - 1:
            for _ in range(effective_layers_for_stage - output_weight):
                if current_layer < num_layers:
                    stage_modules.append(f"layers.{current_layer}")
                    current_layer += 1
            stage_modules.extend(["norm", "lm_head"])
        else:
            for _ in range(effective_layers_for_stage):
                if current_layer < num_layers:
                    stage_modules.append(f"layers.{current_layer}")
                    current_layer += 1
        module_names_per_stage.append(stage_modules)
    return module_names_per_stage


def _layers(parts: list[list[str]]) -> list[int]:
    return [sum(name.startswith("layers.") for name in part) for part in parts]


# (model, PP) -> decoder layers per stage, printed by torchtitan 0.3.0's own function (3 models x PP 2 / 4 / 8 / 16)
TORCHTITAN_ANSWERS = [
    ("llama3-8b", 2, [16, 16]), ("llama3-8b", 4, [8, 9, 8, 7]), ("llama3-8b", 8, [4, 5, 4, 4, 4, 4, 4, 3]),
    ("llama3-8b", 16, [2, 3, *[2] * 13, 1]),
    ("llama3-70b", 2, [40, 40]), ("llama3-70b", 4, [20, 21, 20, 19]), ("llama3-70b", 8, [10, 11, *[10] * 5, 9]),
    ("llama3-70b", 16, [5, 6, *[5] * 13, 4]),
    ("deepseek-v3", 2, [31, 30]), ("deepseek-v3", 4, [15, 16, 16, 14]), ("deepseek-v3", 8, [7, *[8] * 6, 6]),
    ("deepseek-v3", 16, [3, *[4] * 14, 2]),
]


@pytest.mark.parametrize(("model", "pp", "answer"), TORCHTITAN_ANSWERS)
def test_the_units_cut_gives_torchtitans_answers(model: str, pp: int, answer: list[int]) -> None:
    shape = load_model(model)
    assert _layers(_torchtitan_fqns(pp, shape.num_layers)) == answer  # (the transcription, on the wheel's answers)
    assert list(partition_stage_layers(shape, pp, "units")) == answer
    assert partition_end_layers(shape, float(pp), "units") == (answer[0], max(answer[1:-1], default=0), answer[-1])


@pytest.mark.parametrize("num_layers", [1, 5, 16, 32, 61, 62, 80, 126])
def test_the_port_is_the_transcription_wherever_torchtitan_cuts(num_layers: int) -> None:
    """Every stage count torchtitan accepts (and the weights 2 / 0 it may be set to), the embedding on stage 0 and
    the head on the last; where it refuses, the port still gives every stage 0 layers or more, L in all."""
    for stages in range(1, num_layers + 8):
        for weights in ((1, 1), (2, 2), (0, 1)):
            try:
                parts = _torchtitan_fqns(stages, num_layers, *weights)
            except ValueError:
                counts = torchtitan_stage_layers(num_layers, stages, *weights)
                assert min(counts) >= 0 and sum(counts) == num_layers and len(counts) == stages
                continue
            assert parts[0][0] == "tok_embeddings" and parts[-1][-2:] == ["norm", "lm_head"]
            assert torchtitan_stage_layers(num_layers, stages, *weights) == _layers(parts), (stages, weights)


@pytest.mark.parametrize("model", ["llama3-8b", "llama3-70b", "deepseek-v3", "qwen3-32b"])
def test_looped_schedules_give_each_rank_its_1f1b_stage(model: str) -> None:
    """Interleaved1F1B cuts p x v stages and gives rank r stages r, r + p, ... (pipeline_parallel.py:566-568): each
    rank's layers add up to the PP-stage cut's (why `stage_split` prices a rank's chunks as its 1F1B stage), the
    embedding on rank 0 and the head on rank p - 1, for every v torchtitan accepts."""
    shape = load_model(model)
    tried = 0
    for pp in (2, 4, 8, 16):
        for v in (2, 3, 4, 5):
            try:
                parts = _torchtitan_fqns(pp * v, shape.num_layers)
            except ValueError:
                continue
            per_stage = _layers(parts)
            ranks = [sum(per_stage[r + s * pp] for s in range(v)) for r in range(pp)]
            assert ranks == list(partition_stage_layers(shape, pp, "units")), (pp, v)
            assert "tok_embeddings" in parts[0] and "lm_head" in parts[(v - 1) * pp + pp - 1]
            tried += 1
    assert tried >= 12


def test_the_torchtitan_stack_cuts_units() -> None:
    assert TORCHTITAN.pipeline_split == "balanced" and TORCHTITAN.pipeline_partition == "units"
    assert ":366-476" in (TORCHTITAN.pipeline_partition_source or "")


KW = dict(seq_len=4096, micro_batch=1, schedule="1f1b")


def test_the_ends_one_layer_short_price_less_than_the_even_split() -> None:
    """llama3-8b PP4 on H100 (a 525 M-parameter head, ~2.4 layers of 218 M): the even split's last stage runs 8
    layers + the head, torchtitan's the slowest of 8 + embedding, 9, 7 + head, so its step is shorter; its first
    stage (the memory's peak under 1F1B) holds 8 layers either way, so the memory is the same. llama3-405b PP16:
    the first stage holds 7 of 126 layers (8 on the even split), so the memory per GPU drops by about a layer's
    activations; the step as well (the head on 7 layers)."""
    small = dict(gpus=32, tp=1, pp=4, global_batch=64, **KW)
    units = train("llama3-8b", what_if("dgx-h100-superpod", 32, "flops", 1.0), stack=TORCHTITAN, **small)
    even = train("llama3-8b", what_if("dgx-h100-superpod", 32, "flops", 1.0), stack=TORCHTITAN_EVEN, **small)
    assert units.step_time_s < even.step_time_s * 0.99
    assert units.memory_per_gpu_bytes == even.memory_per_gpu_bytes
    large = dict(gpus=512, tp=8, pp=16, global_batch=256, **KW)
    units = train("llama3-405b", what_if("dgx-h100-superpod", 512, "flops", 1.0), stack=TORCHTITAN, **large)
    even = train("llama3-405b", what_if("dgx-h100-superpod", 512, "flops", 1.0), stack=TORCHTITAN_EVEN, **large)
    assert units.memory_per_gpu_bytes < even.memory_per_gpu_bytes
    assert units.step_time_s < even.step_time_s


@pytest.mark.parametrize("figure", ["flops", "hbm"])
def test_rates_never_recut_the_units_partition(figure: str) -> None:
    """Metamorphic: a faster part leaves torchtitan's stages (and so the memory) as they were: the cut reads the
    model and PP alone."""
    for model, gpus, tp, pp in (("llama3-8b", 32, 1, 4), ("llama3-8b", 128, 1, 16), ("llama3-70b", 64, 8, 8)):
        kw = dict(gpus=gpus, tp=tp, pp=pp, global_batch=2 * gpus // tp, **KW)  # (m = 2 PP: torch needs m >= PP)
        base = train(model, what_if("dgx-h100-superpod", gpus, figure, 1.0), stack=TORCHTITAN, **kw)
        faster = train(model, what_if("dgx-h100-superpod", gpus, figure, 2.0), stack=TORCHTITAN, **kw)
        assert faster.memory_per_gpu_bytes == base.memory_per_gpu_bytes, (model, pp)
        assert faster.step_time_s <= base.step_time_s * (1 + 5e-3)


def _times(layer: tuple[float, float], head: tuple[float, float], embed: tuple[float, float]) -> dict[str, Any]:
    """Per-phase terms of `with_stage_split` (the same each phase): a layer's GPU and host seconds (its GPU work all
    `compute`), the head's, the embedding's."""
    out: dict[str, Any] = {}
    for ph in ("fwd", "bwd"):
        out.update({f"compute_{ph}": layer[0], f"tp_{ph}": 0.0, f"cp_{ph}": 0.0, f"ep_{ph}": 0.0, f"other_{ph}": 0.0,
                    f"host_{ph}": layer[1], f"head_gpu_{ph}": head[0], f"head_host_{ph}": head[1],
                    f"embed_gpu_{ph}": embed[0], f"embed_host_{ph}": embed[1]})
    return out


def test_a_host_bound_stage_paces_on_its_own_phases() -> None:
    """By hand, 12 / 13 / 12 / 11 layers (qwen3-30b-a3b PP4), each phase of a layer 1 s of GPU work issued in 3 s,
    the head's 10 s of GPU in 0.5 s, the embedding's 0.1 s in 0.1 s: the middle stage takes 13 x 3 = 39 s a phase,
    the last max(11 + 10, 33 + 0.5) = 33.5 (its head's GPU work under its layers' host time) and the first
    max(12.1, 36.1) = 36.1, so the middle paces (78 s a micro-batch); item by item (`partitioned_stage`, max(G, H)
    of each summed) the last would, 11 x 6 + 20 = 86 > 78. GPU-bound (host 0) the two forms agree."""
    times = _times((1.0, 3.0), (10.0, 0.5), (0.1, 0.1))
    assert phase_paced_stage(4.0, (12.0, 13.0, 11.0), times, 0.0, 0.0) == (78.0, 13.0, False, False)
    assert partitioned_stage(4.0, 12.0, 13.0, 11.0, 6.0, 0.2, 20.0) == (86.0, 11.0, True, False)
    arrays = phase_paced_stage(np.array([4.0, 1.0]), (np.array([12.0, 48.0]), np.array([13.0, 0.0]),
                                                      np.array([11.0, 48.0])),
                               {k: np.array([v, v]) for k, v in times.items()}, 0.0, 0.0)
    assert [np.ravel(x).tolist() for x in arrays] == [[78.0, 2.0 * max(48.0 + 10.1, 144.6)], [13.0, 48.0],
                                                      [False, True], [False, True]]
    gpu_bound = _times((2.0, 0.0), (9.0, 0.0), (1.0, 0.0))
    assert phase_paced_stage(4.0, (8.0, 9.0, 7.0), gpu_bound, 0.0, 0.0) == partitioned_stage(
        4.0, 8.0, 9.0, 7.0, 4.0, 2.0, 18.0)
    # MTP modules beside the head (one of 1.5 layers with its own head and embedding): on the last stage's phases
    mtp = phase_paced_stage(4.0, (8.0, 9.0, 7.0), gpu_bound, 1.0, 1.5)
    assert mtp == (2.0 * (7.0 * 2.0 + 9.0 + 1.5 * 2.0 + 9.0 + 1.0), 7.0, True, False)


def test_twice_the_sequence_never_takes_less_time_on_a_host_bound_plan() -> None:
    """qwen3-30b-a3b TP2 PP4 fp8 on 8 H200 under torchtitan (eager host, MoE layers host-bound at these sizes): at
    4,096 tokens the item-by-item paces put the last stage (11 layers + the head) first and the step came out 1.9 %
    shorter than at 2,048 (0.3314 s against 0.3377 s); each stage on its own phases keeps the middle stage's 13."""
    kw: dict[str, Any] = dict(gpus=8, tp=2, pp=4, global_batch=4, micro_batch=1, dtype="fp8", zero=0,
                              stack=TORCHTITAN)
    base = train("qwen3-30b-a3b", "hgx-h200", seq_len=2048, **kw)
    longer = train("qwen3-30b-a3b", "hgx-h200", seq_len=4096, **kw)
    assert longer.step_time_s > base.step_time_s


@pytest.mark.parametrize("model", ["llama3-8b", "llama3-70b", "deepseek-v3", "qwen3-32b"])
def test_zb_v_ranks_pair_torchtitans_stages(model: str) -> None:
    """ZBVZeroBubble's V mapping (pipeline_parallel.py:569-576: rank r holds stages r and 2p - 1 - r of the 2p
    torchtitan cuts): rank 0's layers and the most on another rank, from the transcription; the other ranks differ
    by at most one layer (so the memory's ceil((L - end) / (p - 1)) is their most)."""
    shape = load_model(model)
    for pp in (2, 4, 8, 16):
        try:
            per_stage = _layers(_torchtitan_fqns(2 * pp, shape.num_layers))
        except ValueError:
            continue
        ranks = [per_stage[r] + per_stage[2 * pp - 1 - r] for r in range(pp)]
        assert v_cut_ranks(shape.num_layers, pp) == (ranks[0], max(ranks[1:]))
        assert max(ranks[1:]) - min(ranks[1:]) <= 1
        assert max(ranks[1:]) == -(-(shape.num_layers - ranks[0]) // (pp - 1))
    assert v_cut_ranks(32, 4) == (7.0, 9.0) and v_cut_ranks(80, 8) == (9.0, 11.0)


def test_zb_v_paces_on_rank_0_or_the_fullest_rank() -> None:
    """llama3-8b PP4 (7 + both tables / 9 / 8 / 8), each layer 1 s of GPU a phase (no host): rank 0 takes 7 + the
    tables; with tables of 1.5 s a phase it is 8.5 < 9 (rank 1 paces, share 0), of 1 s + 1 s 9 = 9 (ties: rank 1),
    of 2 + 0.5 9.5 (rank 0, shares 1); arrays alike."""
    for head, embed, expected in ((1.0, 0.5, (18.0, 9.0, 0.0, 0.0)), (0.5, 0.5, (18.0, 9.0, 0.0, 0.0)),
                                  (2.0, 0.5, (19.0, 7.0, 1.0, 1.0))):
        times = _times((1.0, 0.0), (head, 0.0), (embed, 0.0))
        assert v_paced_rank(32, 4.0, times, 0.0, 0.0) == expected
        arrays = v_paced_rank(32, np.array([4.0]), {k: np.array([v]) for k, v in times.items()}, 0.0, 0.0)
        assert tuple(float(np.ravel(x)[0]) for x in arrays) == expected


@pytest.mark.parametrize(("model", "gpus", "tp", "pp", "end", "middle", "rank_0_paces"), [
    ("llama3-8b", 32, 1, 4, 7.0, 9.0, True),  # a 2.7-layer head + embedding: rank 0 paces
    # 1.1 layers of tables: the unit cut's rank 1 (11 layers) paces; hI58: the even split's rank 0 (10 layers + the
    # tables) paces above it since torchtitan's loss is DTensor's loss_parallel at TP 8 (76 B / 47 kernels, was
    # Megatron's 52 B / 13: `training.head_time.TORCH_CROSS_ENTROPY_PASSES`): even 21.689 s against 21.640 s
    ("llama3-70b", 64, 8, 8, 9.0, 11.0, True),
])
def test_zb_v_memory_holds_the_ranks_torchtitan_builds(model: str, gpus: int, tp: int, pp: int, end: float,
                                                       middle: float, rank_0_paces: bool) -> None:
    """ZB-V under torchtitan on H100: the step paces on its own V ranks and the memory's end and middle kinds hold
    them (llama3-70b: the pace-setting rank's 11 with the end bin the 80 - 7 x 11 left gave rank 0 3 layers)."""
    shape = load_model(model)
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(gpus).placed(gpus)
    plan = PlanArrays.one_plan(tp=tp, pp=pp, dp=gpus // (tp * pp), cp=1, ep=1, etp=None, vpp=2, micro_batch=1,
                               global_batch=128, seq_len=8192, recompute=0, zero=2, dtype=0, attention=0, order=0,
                               sequence_parallel=1, schedule=int(Schedule.ZB_V))
    split = balanced_split(shape, cluster, plan, TORCHTITAN)
    assert split is not None
    layers = kind_layers(shape, plan, TORCHTITAN, split)
    assert layers is not None
    assert [float(np.ravel(x)[0]) for x in layers[:3]] == [middle, end, end]
    est = train(model, "dgx-h100-superpod", gpus=gpus, tp=tp, pp=pp, vpp=2, schedule="zb-v", global_batch=128,
                seq_len=8192, micro_batch=1, stack=TORCHTITAN)
    even = train(model, "dgx-h100-superpod", gpus=gpus, tp=tp, pp=pp, vpp=2, schedule="zb-v", global_batch=128,
                 seq_len=8192, micro_batch=1, stack=TORCHTITAN_EVEN)
    timed = train(model, "dgx-h100-superpod", gpus=gpus, tp=tp, pp=pp, vpp=2, schedule="zb-v", global_batch=128,
                  seq_len=8192, micro_batch=1, stack=TORCHTITAN.model_copy(update={"pipeline_partition": "time"}))
    if rank_0_paces:
        assert est.step_time_s < even.step_time_s  # (even: 2 x ceil(L / 2p) on every rank, both tables on rank 0's)
    else:  # hK52 (session 52): torchtitan's eager element-wise passes make a layer weigh more beside the tables, so
        # the even split's rank 0 (10 layers + both tables) paces below the unit cut's rank 1 (11 layers): 20.068 vs
        # 20.078 s (it was the other way round at fused element-wise cost). hK (session 56): torchtitan's SDPA
        # FlashAttention-2 on Hopper (`attention_kernel: fa2`) makes a layer heavier again, so the unit cut's extra
        # layer weighs more than the tables: 21.536 vs 21.640 s (+0.49 %, was +0.05 %)
        assert even.step_time_s < est.step_time_s < 1.006 * even.step_time_s
    # the time split's pairs minimise the slowest rank: as fast where a middle rank paces (11 either way), faster
    # where torchtitan's rank 0 does (8b: its 7 + 2.7 layers' time, the time split's slowest rank 9)
    assert est.step_time_s > timed.step_time_s
    if not rank_0_paces:  # 70b: until hK (session 56) the same pace and bubble (11 layers either way; the time
        # split's end rank held the 80 - 7 x 11 = 3 left: hZ47, session 45). torchtitan's SDPA FlashAttention-2 on
        # Hopper (`attention_kernel: fa2`) weighs a layer more, the two tables 0.964 layers (1.014 before), so the
        # time split now lays 10 layers on every rank, rank 0's with the tables (10.96 layers' time < 11): compute
        # 13.544 s against the unit cut's 13.551 s
        assert [float(np.ravel(x)[0]) for x in kind_layers(shape, plan, TIMED, balanced_split(
            shape, cluster, plan, TIMED))[:3]] == [10.0, 10.0, 10.0]
        assert timed.breakdown_s.compute < est.breakdown_s.compute < 1.001 * timed.breakdown_s.compute
