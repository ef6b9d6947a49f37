"""SGLang's scheduler receive interval (`serving.request_intake`): hand counts and a relation between two runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infraplan.serving import request_intake
from infraplan.serving.request_intake import poll_wait_s, polled, recv_interval
from infraplan.validation import campaign_settings, serving_blackwell
from infraplan.validation.release_stacks import data_stack

RECV30 = data_stack("sglang-0.x-mixed-chunk-recv30.yaml")


def test_wait_is_half_the_skipped_decode_iterations_by_hand() -> None:
    # 10 decode steps over 1 s: 0.1 s an iteration; polls every 30 -> (30 - 1) / 2 = 14.5 iterations = 1.45 s
    wait = poll_wait_s(np.array([1.0, 3.0]), np.array([2.0, 3.0]), np.array([10, 0]), 30)
    assert wait == pytest.approx([1.45, 0.0])  # a request without decode steps is not moved
    assert poll_wait_s(np.array([1.0]), np.array([2.0]), np.array([10]), 1) == pytest.approx([0.0])


def test_shipped_profile_polls_every_iteration_and_the_what_if_every_thirty() -> None:
    assert recv_interval("sglang-0.x") == 1  # SGLang's default --scheduler-recv-interval
    assert recv_interval(RECV30) == 30
    first, finish, steps = np.array([0.5]), np.array([1.5]), np.array([100])
    same = polled("sglang-0.x", first, finish, steps)
    assert same[0] is first and same[1] is finish
    moved = polled(RECV30, first, finish, steps)
    assert moved[0] == pytest.approx([0.5 + 14.5 * 0.01]) and moved[1] == pytest.approx([1.5 + 14.5 * 0.01])


def test_toggle_off_reads_every_stack_as_polling_each_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_intake, "RECV_INTERVAL", False)
    assert recv_interval(RECV30) == 1


def _row(concurrency: int) -> dict[str, str]:
    return next(r for r in serving_blackwell.load_rows() if r["backend"] == "sglang" and r["system"] == "b200_sxm"
                and r["backend_version"] == "0.5.9" and r["concurrency"] == str(concurrency)
                and serving_blackwell.why_not(r) is None)


def test_campaign_interval_moves_ttft_by_its_iterations_and_not_tpot(monkeypatch: pytest.MonkeyPatch) -> None:
    row = _row(32)
    assert campaign_settings.sglang_recv_interval(row) == 30
    on = serving_blackwell.run_row(row)
    monkeypatch.setattr(campaign_settings, "SGLANG_RECV_INTERVAL_RULE", False)
    off = serving_blackwell.run_row(row)
    assert on["tpot_s"] == pytest.approx(off["tpot_s"], rel=1e-9)  # finish moves with the first token
    # every request waits 14.5 of its own decode iterations; TPOT over OSL - 1 tokens is that iteration (no drafts)
    assert on["ttft_s"] - off["ttft_s"] == pytest.approx(14.5 * off["tpot_s"], rel=0.02)


def test_campaign_rule_by_system_clients_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    row = _row(32)
    assert campaign_settings.sglang_recv_interval({**row, "concurrency": "16"}) == 30
    assert campaign_settings.sglang_recv_interval({**row, "concurrency": "8"}) == 10
    assert campaign_settings.sglang_recv_interval({**row, "system": "h200_sxm"}) == 1  # no step on H200 (docstring)
    assert campaign_settings.sglang_recv_interval({**row, "backend": "vllm"}) == 1
    assert campaign_settings.sglang_recv_interval({**row, "system": "gb200"}) == 1  # no scored row shows it
    gap = {**row, "silicon_data_source": "source_file=/x/aic-auto-gap-analysis/data/b200_sxm/sglang/0.5.9/x.csv"}
    assert campaign_settings.sglang_recv_interval(gap) == 1  # AIConfigurator's generator passes no such flag
    monkeypatch.setattr(campaign_settings, "SGLANG_RECV_INTERVAL_RULE", False)
    assert campaign_settings.sglang_recv_interval(row) == 1


def test_an_interval_past_any_sequences_decode_iterations_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hR (session 51): `recv_interval_iterations: 100000000000000000000000` in a user's stack ran, TTFT 3.6e20 s and
    TPOT 0 (the wait swamped the decode span in float64); now at most `limits.MAX_TOKENS` iterations, exit 2."""
    from infraplan.cli.main import main

    stack = tmp_path / "s.yaml"
    args = ["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "1", "--stack", str(stack), "--workload", "chat",
            "--requests", "50", "--concurrency", "4", "--json"]
    stack.write_text("extends: sglang-0.x\nname: s\ndisplay_name: s\nserving:\n"
                     "  recv_interval_iterations: 100000000000000000000000\n")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "recv_interval_iterations" in err and "less than or equal to 10000000" in err
    stack.write_text("extends: sglang-0.x\nname: s\ndisplay_name: s\nserving:\n  recv_interval_iterations: 10000000\n")
    assert main(args) == 0


def test_a_receive_interval_with_attention_dp_is_refused_as_sglang_refuses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hR (session 51): SGLang's skipper asserts `not enable_dp_attention` (scheduler_recv_skipper.py:15), yet a stack
    with `recv_interval_iterations` 30 priced an attention-DP replica's polls as if it ran; `serve` refuses it now in
    one line (`check_deployment`), and serve-plan lists such layouts as rejected (`attention_dp_refusal`)."""
    from infraplan.catalog import load_model
    from infraplan.cli.main import main
    from infraplan.cluster import Cluster
    from infraplan.errors import InputError
    from infraplan.serving.deployment import check_deployment
    from infraplan.serving.llm_iteration import Deployment

    dsv3, h200 = load_model("deepseek-v3"), Cluster.resolve("hgx-h200").accelerator
    wide = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack=RECV30)
    with pytest.raises(InputError, match=r"receive interval of 30 decode iterations .* attention DP 8"):
        check_deployment(dsv3, h200, wide)
    check_deployment(dsv3, h200, Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack=RECV30))
    assert request_intake.attention_dp_refusal("sglang-0.x", 8) is None  # SGLang's default interval 1
    assert main(["serve", "deepseek-v3", "--system", "hgx-h200", "--gpus", "8", "--tp", "1", "--attention-dp", "8",
                 "--ep", "8", "--dtype", "fp8", "--kv-dtype", "fp8", "--stack", RECV30, "--input-len", "1024",
                 "--output-len", "64", "--requests", "20", "--concurrency", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not run with attention DP 8" in err, err
    # serve-plan lists the attention-DP layouts as rejected and plans the others (3.5 s; without the capacity
    # search's check the refusal of the first wide-EP candidate would end the whole search)
    assert main(["serve-plan", "deepseek-v3", "--system", "hgx-h200", "--rate", "2", "--stack", RECV30,
                 "--workload", "chat", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    refused = [r for r in plan["rejected"] if "does not run with attention DP" in r]
    assert refused and all("DP-attention" in r for r in refused)
    assert plan["deployment"]["attention_dp"] == 1
