"""DualPipe paces each rank on the mirrored pair of stages it holds (`mirrored_stages.mirrored_pair_stage`; DeepSeek-V3
arXiv:2412.19437 sec. 3.2.1, Fig. 5: rank i holds stage i of the forward direction and stage p-1-i of the reverse
one, half the micro-batches each way): per micro-batch max_i (s_i + s_{p-1-i}) / 2, not max_i s_i; DeepSeek's own
stack trains its one MTP module (sec. 4.2) and the DP gradient traffic counts the MTP parameters."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Dtype, RankOrder, Recompute, Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.mirrored_stages import mirrored_pair_stage, with_mirrored_pairs
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.search_bounds import step_time_floor_s
from infraplan.training.stage_split import heaviest_stage
from infraplan.training.step_traffic import pipeline_and_dp_traffic

DEEPSEEK = load_stack("deepseek-v3")


def test_pp4_even_split_end_ranks_pace_on_the_mean_of_embedding_and_head_stages() -> None:
    """8 layers of 1 s on PP4, embedding 0.5 s, LM head + loss 3 s: stages 2.5, 2, 2, 5 s. Ranks 0 and 3 hold
    stages 0 and 3: (2.5 + 5) / 2 = 3.75 s per micro-batch, ranks 1 and 2 (2 + 2) / 2 = 2 s; the heaviest single
    stage (today's pace) is the last, 5 s."""
    assert heaviest_stage(8, 4.0, 1.0, 0.5, 3.0, "even")[0] == 5.0
    seconds, layers, head, embed = mirrored_pair_stage(8, 4.0, 1.0, 0.5, 3.0, "even")
    assert (seconds, layers, head, embed) == (3.75, 2.0, 0.5, 0.5)
    arrays = mirrored_pair_stage(8, np.array([4.0, 4.0]), np.array([1.0, 1.0]), 0.5, 3.0, "even")
    assert [a.tolist() for a in arrays] == [[3.75] * 2, [2.0] * 2, [0.5] * 2, [0.5] * 2]


def test_a_middle_pair_sets_the_pace_when_the_ends_are_light() -> None:
    """10 layers on PP4 with the embedding and the loss counted as layers (Megatron-Core's flags): 3 layers a
    stage, 2 on the ends; ends 0.2 s each: end pair (2 + 0.2 + 2 + 0.2) / 2 = 2.2 s < middle pair 3 s."""
    seconds, layers, head, embed = mirrored_pair_stage(10, 4.0, 1.0, 0.2, 0.2, "even", True, True)
    assert (seconds, layers, head, embed) == (3.0, 3.0, 0.0, 0.0)


def test_balanced_split_balances_the_two_pairs() -> None:
    """8 layers on PP4, embedding 0.5 s, head 6 s: the 2 pairs take whole layers, the end pair the 6.5 s of
    extras: the end pair 1 layer (7.5 s over its two stages), the other 7 (7 s): pace 7.5 / 2 = 3.75 s. Unpaired
    the last stage alone is 6 s."""
    assert heaviest_stage(8, 4.0, 1.0, 0.5, 6.0, "balanced")[0] == 6.0
    assert mirrored_pair_stage(8, 4.0, 1.0, 0.5, 6.0, "balanced") == (3.75, 0.5, 0.5, 0.5)
    arrays = mirrored_pair_stage(8, np.array([4.0]), np.array([1.0]), 0.5, 6.0, "balanced")
    assert [float(a[0]) for a in arrays] == [3.75, 0.5, 0.5, 0.5]


def test_the_pair_split_hands_half_the_heads_and_mtp_modules_to_the_end_rank() -> None:
    """`with_mirrored_pairs` on a layer of 1 s, head 3 s, embedding 0.5 s, no MTP: the end rank's 2 layers, half a
    head and half an embedding; the others' 6 layers and the other halves (the bubble's o); unpaired plans keep
    the split's terms."""
    shape = load_model("llama3-8b")  # 32 layers
    zero = np.zeros(2)
    times = {f"{part}_{ph}": zero for part in ("compute", "tp", "cp", "ep", "other") for ph in ("fwd", "bwd")}
    times |= {"compute_fwd": np.full(2, 0.4), "compute_bwd": np.full(2, 0.6), "host_fwd": zero, "host_bwd": zero,
              "head_gpu_fwd": np.full(2, 1.0), "head_gpu_bwd": np.full(2, 2.0), "head_host_fwd": zero,
              "head_host_bwd": zero, "embed_gpu_fwd": np.full(2, 0.25), "embed_gpu_bwd": np.full(2, 0.25),
              "embed_host_fwd": zero, "embed_host_bwd": zero}
    split = {"stage_layers": np.full(2, 8.0), "last_is_heaviest": np.ones(2), "first_is_heaviest": zero,
             "other_layers": np.full(2, 24.0), "mtp_stage": zero, "mtp_other": zero}
    out = with_mirrored_pairs(shape, DEEPSEEK.model_copy(update={"mtp_num_layers": 0}), times | split,
                              np.array([4, 4]), np.array([True, False]))
    # 32 layers on PP4 (even): 8 a stage; the end pair (8 + 0.5 + 8 + 3) / 2 = 9.75 s > the middle pair's 8 s
    assert out["stage_layers"].tolist() == [8.0, 8.0]
    assert out["last_is_heaviest"].tolist() == [0.5, 1.0]
    assert out["first_is_heaviest"].tolist() == [0.5, 0.0]
    assert out["other_layers"].tolist() == [24.0, 24.0]
    with_mtp = with_mirrored_pairs(shape, DEEPSEEK, times | split, np.array([4, 4]), np.array([True, False]))
    assert with_mtp["mtp_stage"].tolist() == [0.5, 0.0] and with_mtp["mtp_other"].tolist() == [0.5, 0.0]


def _deepseek_run(schedule: str, mtp: int, pp: int = 16):  # type: ignore[no-untyped-def]
    stack = DEEPSEEK.model_copy(update={"mtp_num_layers": mtp})
    return estimate_training("deepseek-v3", "h800", 2048, tp=1, pp=pp, ep=64, schedule=schedule,
                             order="tp-cp-dp-pp", seq_len=4096, global_batch=15360, dtype="fp8",
                             recompute="selective", zero=1, stack=stack)


def test_deepseek_stack_trains_its_mtp_module_and_the_end_rank_carries_half_of_it() -> None:
    """DeepSeek-V3 sec. 4.2: MTP depth D = 1 in pre-training. Under DualPipe the module runs on the end ranks for
    half the micro-batches (the reverse direction's last stage is rank 0's): the step grows by well under the
    module's whole time, which the unpaired last stage paid in full (+48 % on this plan, session 35)."""
    assert DEEPSEEK.mtp_num_layers == 1
    assert load_stack("nemo-26.04").mtp_num_layers == 0
    off, on = _deepseek_run("dualpipe", 0), _deepseek_run("dualpipe", 1)
    assert 1.2 < on.step_time_s / off.step_time_s < 1.35


def test_one_plan_equals_its_row_in_a_grid_under_dualpipe() -> None:
    """The float twin (one estimate) gives the bits of the array path (a grid's row) on a paired plan."""
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("h800")
    plan = PlanArrays.build(tp=[1, 1], pp=[16, 8], dp=[128, 256], cp=1, ep=64, vpp=1, micro_batch=1,
                            global_batch=15360, seq_len=4096, recompute=int(Recompute.SELECTIVE), zero=1,
                            dtype=int(Dtype.FP8), order=int(RankOrder.TP_CP_DP_PP), schedule=int(Schedule.DUALPIPE))
    grid = evaluate_plans(shape, cluster, plan, DEEPSEEK)["step_time_s"]
    for i in range(2):
        alone = evaluate_plans(shape, cluster, plan.take([i]), DEEPSEEK)["step_time_s"]
        assert float(alone[0]) == float(grid[i])


def test_search_floor_holds_for_dualpipe_plans() -> None:
    """The search's per-row floor (priced at 1F1B) stays below every DualPipe plan of its row: the paired rank is
    lighter than the heaviest single stage, so the floor takes the lower of 1F1B and DualPipe on even PP."""
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    plans = enumerate_plans(shape, 64, 4096, 128, ["bf16"], max_tp=8, schedules=["dualpipe"])
    plans = plans.take(valid_mask(shape, plans) & (plans.schedule == int(Schedule.DUALPIPE)))
    rows = replace(plans, vpp=np.ones_like(plans.vpp), zero=np.zeros_like(plans.zero),
                   schedule=np.full(len(plans), int(Schedule.ONE_F_ONE_B)))
    stack = resolve_stack("deepseek-v3", "training", shape.name)
    floor = step_time_floor_s(shape, cluster, rows, stack)
    step = evaluate_plans(shape, cluster, plans, stack)["step_time_s"]
    assert len(plans) > 1000 and np.all(floor <= step) and np.mean(floor / step) > 0.5


def test_dp_gradient_traffic_counts_the_mtp_module() -> None:
    """Qwen3-30B-A3B, EP8, TP1 (tests/training/test_mtp_memory.py): one module on a GPU is 103,022,592 parameters
    (attention 18,874,368 + 16 experts of 4,718,592 + router 262,144 + eh_proj 8,388,608), of them 75,497,472
    routed-expert ones, reduced beside the stage's own."""
    shape, fabric = load_model("qwen3-30b-a3b"), Cluster.resolve("dgx-b200").fabric
    plan = PlanArrays.build(tp=1, pp=[2, 1], dp=[8, 16], cp=1, ep=8, vpp=1, micro_batch=1, global_batch=64,
                            seq_len=4096, recompute=int(Recompute.FULL), zero=1, dtype=int(Dtype.BF16))
    off, on = pipeline_and_dp_traffic(shape, fabric, plan), pipeline_and_dp_traffic(shape, fabric, plan,
                                                                                     mtp_num_layers=1)
    assert np.allclose(on["params"] - off["params"], 103_022_592, rtol=1e-12, atol=0.0)
    assert np.allclose(on["expert_params"] - off["expert_params"], 16 * 4_718_592, rtol=1e-12, atol=0.0)
    assert np.all(on["scatter"] > off["scatter"]) and np.all(on["allreduce"] > off["allreduce"])
