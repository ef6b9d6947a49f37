"""`search --sharp` (hN3): the search prices every plan with NCCL CollNet on, as `train --sharp` prices one
(`training.collnet.sharp_profile`, shared by `resolve_training` and `search_plans`), so the two answer one question."""

from __future__ import annotations

import json
import shlex

import pytest

from infraplan.cli import main
from infraplan.sweep.functions import resolve_callable, train_batch
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans
from infraplan.web.requests import SearchRequest
from infraplan.web.runners import run_search

SEARCH = ["search", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "1024", "--seq-len", "8192",
          "--global-batch", "1024", "--top", "8", "--json"]


def _search(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:  # type: ignore[type-arg]
    assert main([*SEARCH, *extra]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _train(capsys: pytest.CaptureFixture[str], command: str, sharp: bool) -> dict:  # type: ignore[type-arg]
    args = [a for a in shlex.split(command)[1:] if a != "--sharp"]  # the row's own `infraplan train ...` line
    assert main([*args, *(["--sharp"] if sharp else []), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_the_best_plan_of_search_sharp_is_train_sharps_step_to_the_bit(capsys):
    on = _search(capsys, "--sharp")
    best = on["top"][0]
    assert best["train_command"].endswith(" --sharp")  # the row's command reproduces it
    assert _train(capsys, best["train_command"], sharp=True)["step_time_s"] == best["step_time_s"]
    assert any(n.startswith("--sharp: every plan's DP gradient all-reduce (ZeRO 0)") for n in on["notes"])


# hF45's ZeRO 0 plan of the SHARP search (NIC-bound DP at stride 32, one GPU a node)
ZERO_0 = ("infraplan train llama3-70b --system dgx-h100-superpod --gpus 1024 --tp 8 --pp 4 --dp 32 --cp 1 --ep 1 "
          "--etp 8 --vpp 10 --seq-len 8192 --global-batch 1024 --micro-batch 2 --recompute none --zero 0 --dtype fp8 "
          "--attention flash --order tp-cp-pp-dp --sequence-parallel --schedule interleaved --stack nemo-26.04")


def test_zero_0_plans_gain_and_zero_1_to_3_do_not(capsys):
    # Llama 3 70B on 1,024 H100 (nemo-26.04, DP stride 8: NIC-bound DP): every ZeRO 0 row of the SHARP search
    # is faster than the same plan without SHARP; a ZeRO 1-3 row is the same step (RS + AG: no fewer NIC bytes)
    off, on = _search(capsys), _search(capsys, "--sharp")
    zeros = set()
    for row in on["top"]:
        plain = _train(capsys, row["train_command"], sharp=False)["step_time_s"]
        zeros.add(row["config"]["zero"])
        if row["config"]["zero"] == 0:
            assert row["step_time_s"] < plain
        else:
            assert row["step_time_s"] == plain
    assert zeros - {0}  # (ZeRO 1 left the top 8 when the NIC table was read per ring step, hT87: its DP
    # reduce-scatter / all-gather over 128 one-GPU nodes is no longer priced at 1,024 ranks)
    # without SHARP no ZeRO 0 plan makes the top 8 (the ZeRO 1-3 plans within the published MFU, compared in its
    # causal-scores convention, hF45); with it hF45's ZeRO 0 plan is at least 3 % faster than without (5.011 s
    # against 5.192 s). It made the top 8 at 5.0125 s, just within the fp8 ceiling; since SHARP's message-size bound
    # is its own steps' latency (hN, session 51, `sharp.SHARP_TABLE_PER_STEP`: its DP all-reduce exposed 13.0 ->
    # 11.2 ms) it runs 5.0107 s, past the ceiling, and the guard ranks it after the top 8.
    assert 0 not in {r["config"]["zero"] for r in off["top"]}
    with_sharp, plain = _train(capsys, ZERO_0, sharp=True), _train(capsys, ZERO_0, sharp=False)
    assert with_sharp["step_time_s"] < 0.97 * plain["step_time_s"]


def test_api_web_and_sweep_take_sharp():
    args = ("llama3-70b", "dgx-h100-superpod", 1024, 8192, 1024)
    api = search_plans(*args, top=8, sharp=True)
    # the sweep's `search` is the API function's answer (a wrapper since hP62 took `tokens`: without them, its call)
    swept = resolve_callable("search")(*args, top=8, sharp=True)
    assert swept.model_dump()["top"] == api.model_dump()["top"]
    web = run_search(SearchRequest(model="llama3-70b", system="dgx-h100-superpod", gpus=[1024], seq_len=8192,
                                   global_batch=1024, top=8, sharp=True))
    assert web.model_dump()["top"] == api.model_dump()["top"]
    # the best row is `train --sharp`'s step of its plan, to the bit
    c = api.top[0].config
    one = estimate_training("llama3-70b", "dgx-h100-superpod", 1024, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep,
                            vpp=c.vpp, seq_len=8192, global_batch=1024, micro_batch=c.micro_batch,
                            recompute=c.recompute, zero=c.zero, dtype=c.dtype, order=c.order, schedule=c.schedule,
                            sharp=True)
    assert one.step_time_s == api.top[0].step_time_s
    # hF45's ZeRO 0 plan (SHARP prices only ZeRO 0's all-reduce; since session 51 the guard ranks it after the top 8,
    # `test_zero_0_plans_gain_and_zero_1_to_3_do_not`): the sweep's batched `train` prices it as `train`, to the bit
    point = {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 1024, "tp": 8, "pp": 4, "dp": 32,
             "cp": 1, "vpp": 10, "seq_len": 8192, "global_batch": 1024, "micro_batch": 2, "recompute": "none",
             "zero": 0, "dtype": "fp8", "order": "tp-cp-pp-dp", "schedule": "interleaved"}
    one = estimate_training("llama3-70b", "dgx-h100-superpod", 1024, tp=8, pp=4, dp=32, cp=1, vpp=10, seq_len=8192,
                            global_batch=1024, micro_batch=2, recompute="none", zero=0, dtype="fp8",
                            order="tp-cp-pp-dp", schedule="interleaved", sharp=True)
    batch = train_batch([{**point, "sharp": True}, point])  # the sweep's batched `train`: the same point, to the bit
    assert batch[1].step_time_s > batch[0].step_time_s == one.step_time_s  # type: ignore[union-attr]


def test_search_sharp_on_roce_is_one_line_exit_2(capsys):
    args = [a if a != "dgx-h100-superpod" else "meta-genai-roce-24k" for a in SEARCH]
    assert main([*args, "--sharp"]) == 2
    err = capsys.readouterr().err
    assert "minipack2 does no in-network reduction" in err and err.count("\n") == 1 and "Traceback" not in err
