"""IB SHARP (NCCL CollNet) in the training step: the DP all-reduce priced by `network.sharp.sharp_time`, the one
function `collective --algorithm sharp` prices; off by default; refused on RoCE; one answer for a plan and a grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog.stacks import resolve_stack
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.sharp import collnet_fabric, sharp_time
from infraplan.training.enums import Dtype, RankOrder, Recompute, Schedule
from infraplan.training.estimate import resolve_training
from infraplan.training.memory import GRAD_BYTES
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import one_plan_step_time, step_time
from infraplan.training.step_traffic import dp_collectives, pipeline_and_dp_traffic
from infraplan.web.requests import TrainRequest
from infraplan.web.runners import run_train

TRAIN = ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "1024", "--tp", "8", "--pp", "4",
         "--seq-len", "8192", "--global-batch", "512", "--json"]


def _point(zero: int, gpus: int = 16384):  # type: ignore[no-untyped-def]
    return resolve_training("llama3-70b", "dgx-h100-superpod", gpus, tp=8, pp=4, seq_len=8192,
                            global_batch=gpus // 2, zero=zero, order="tp-cp-pp-dp")


def test_the_dp_all_reduce_is_the_collective_commands_sharp_price():
    # DP = 512 ranks 32 apart (TP 8 x PP 4): `collective --gpus 512 --placement spread` on the 16,384 GPUs puts
    # the same group (stride 16,384 / 512 = 32) and the step's ZeRO-0 gradient buffer is its --bytes
    point = _point(0)
    cluster, row = point.cluster, point.plan.one_row
    assert row.dp == 512 and row.dp_stride == 32
    fabric = collnet_fabric(cluster)
    assert fabric.sharp and not cluster.fabric.sharp
    traffic = pipeline_and_dp_traffic(point.shape, cluster.fabric, point.plan, GRAD_BYTES)
    size = traffic["params"] * GRAD_BYTES  # a dense model: every parameter replicated over DP
    dp = dp_collectives(point.shape, fabric, row, traffic["params"], 0.0, GRAD_BYTES, 0)["allreduce"]
    plain = dp_collectives(point.shape, cluster.fabric, row, traffic["params"], 0.0, GRAD_BYTES, 0)["allreduce"]
    command = estimate_collective("all-reduce", Cluster.resolve("dgx-h100-superpod"), 512, size, placement="spread",
                                  algorithm="sharp", sharp=True)
    assert command.stride == 32
    assert dp == pytest.approx(command.time_s, rel=1e-12) == sharp_time(fabric, size, 512, 32)
    assert dp < 0.6 * plain  # about half the ring / tree over the same NICs (NIC-bound at 8 ranks per node)


def test_only_zero_0s_all_reduce_moves_and_the_default_is_off():
    for zero, moves in ((0, True), (1, False), (3, False)):
        point = _point(zero)
        off = one_plan_step_time(point.shape, point.cluster, point.plan, point.profile)
        on = one_plan_step_time(point.shape, point.cluster, point.plan,
                                point.profile.model_copy(update={"nccl_collnet": True}))
        assert not point.profile.nccl_collnet
        # ZeRO-1/3 reduce-scatter and all-gather: SHARP sends no fewer bytes per NIC (`network.sharp`)
        assert (on["dp_comm_exposed"] < 0.5 * off["dp_comm_exposed"]) if moves else on == off
        assert on["compute"] == off["compute"]


def test_a_plan_and_its_grid_row_give_one_answer():
    point = _point(0, 1024)
    profile = point.profile.model_copy(update={"nccl_collnet": True})
    row = point.plan.one_row
    fields = dict(tp=8, pp=4, dp=32, cp=1, ep=1, etp=0, vpp=int(row.vpp), micro_batch=1, global_batch=512,
                  seq_len=8192, recompute=int(Recompute(row.recompute)), zero=0, dtype=int(Dtype.BF16), attention=0,
                  order=int(RankOrder(row.order)), sequence_parallel=1, schedule=int(Schedule(row.schedule)),
                  recompute_layers=0)
    single = PlanArrays.one_plan(**fields)  # type: ignore[arg-type]
    one = one_plan_step_time(point.shape, point.cluster, single, profile)
    grid = step_time(point.shape, point.cluster, PlanArrays.build(**{k: np.array([v, v]) for k, v in fields.items()}),
                     profile)
    plain = step_time(point.shape, point.cluster, PlanArrays.build(**{k: np.array([v]) for k, v in fields.items()}),
                      point.profile)
    assert grid["step_time_s"] == pytest.approx([one["step_time_s"]] * 2, rel=1e-12)
    assert one["step_time_s"] < plain["step_time_s"][0]


def test_train_sharp(capsys):
    assert main([*TRAIN, "--zero", "0"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert main([*TRAIN, "--zero", "0", "--sharp"]) == 0
    on = json.loads(capsys.readouterr().out)
    assert on["step_time_s"] < off["step_time_s"]
    assert on["breakdown_s"]["dp_comm_exposed"] < 0.5 * off["breakdown_s"]["dp_comm_exposed"]
    assert on["breakdown_s"]["compute"] == off["breakdown_s"]["compute"]
    assert any("DP gradient all-reduce reduces in the switches" in n for n in on["notes"])
    assert main([*TRAIN, "--sharp"]) == 0  # the stack's default ZeRO 1: reduce-scatter + all-gather, said
    zero1 = json.loads(capsys.readouterr().out)
    assert any("ZeRO 1 reduce-scatters and all-gathers" in n for n in zero1["notes"])
    web = run_train(TrainRequest(model="llama3-70b", system="dgx-h100-superpod", gpus=1024, tp=8, pp=4, seq_len=8192,
                                 global_batch=512, zero=0, sharp=True))
    assert web.model_dump()["step_time_s"] == on["step_time_s"]


def test_a_stack_file_with_collnet_is_the_knob(tmp_path, capsys):
    stack = tmp_path / "collnet.yaml"
    profile = resolve_stack(None, "training")
    stack.write_text(json.dumps({**profile.model_dump(mode="json", exclude_defaults=True), "nccl_collnet": True}))
    assert main([*TRAIN, "--zero", "0", "--sharp"]) == 0
    knob = json.loads(capsys.readouterr().out)
    assert main([*TRAIN, "--zero", "0", "--stack", str(stack)]) == 0
    filed = json.loads(capsys.readouterr().out)
    assert filed["step_time_s"] == knob["step_time_s"]


def test_sharp_on_roce_is_one_line_exit_2(capsys):
    args = [a if a != "dgx-h100-superpod" else "meta-genai-roce-24k" for a in TRAIN]
    assert main([*args, "--sharp"]) == 2
    err = capsys.readouterr().err
    assert "minipack2 does no in-network reduction" in err and err.count("\n") == 1 and "Traceback" not in err
