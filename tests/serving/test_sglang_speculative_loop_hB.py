"""SGLang with drafts runs synchronous and prefill-first (`serving.request_intake.SGLANG_SPECULATIVE_LOOP`; sglang
0.5.6.post2 srt/server_args.py:1754-1765, 0.5.9 :2383-2395: overlap schedule and mixed chunk off under EAGLE / MTP).

Before the change a drafting SGLang deployment kept its profile's overlap loop (one decode iteration more in every
TTFT) and the AIConfigurator mixed-chunk PrefillAdder; `schedules_ahead` / `loop_scheduler` took no draft count.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from infraplan.serving import request_intake
from infraplan.serving.engines import load_engine
from infraplan.serving.request_intake import loop_scheduler, schedules_ahead
from infraplan.validation import serving_blackwell, serving_hopper, serving_hopper_moe
from infraplan.validation.release_stacks import data_stack

MIXED = data_stack("sglang-0.x-mixed-chunk.yaml")
VLLM_ASYNC = data_stack("vllm-0.16.yaml")


def test_sglang_drafts_turn_the_overlap_loop_off_and_vllm_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert schedules_ahead("sglang-0.x") and schedules_ahead(MIXED)  # SGLang's default overlap loop
    assert not schedules_ahead("sglang-0.x", 1) and not schedules_ahead(MIXED, 3)  # SPEC_V2 off by default
    assert schedules_ahead(VLLM_ASYNC, 1)  # vLLM's async scheduling stays on under EAGLE / MTP
    monkeypatch.setattr(request_intake, "SGLANG_SPECULATIVE_LOOP", False)
    assert schedules_ahead("sglang-0.x", 1)


def test_sglang_drafts_turn_mixed_chunk_into_prefill_first(monkeypatch: pytest.MonkeyPatch) -> None:
    mixed = load_engine(MIXED)
    assert mixed.scheduler == "sglang-adder" and loop_scheduler(mixed) == "sglang-adder"
    assert loop_scheduler(mixed, 1) == "prefill-first"  # enable_mixed_chunk = False with EAGLE
    assert loop_scheduler(load_engine("sglang-0.x"), 1) == "prefill-first"  # SGLang's default already
    assert loop_scheduler(load_engine("vllm-0.x"), 1) == "fcfs"  # other engines keep theirs
    monkeypatch.setattr(request_intake, "SGLANG_SPECULATIVE_LOOP", False)
    assert loop_scheduler(mixed, 1) == "sglang-adder"


def _row() -> dict[str, str]:
    """SGLang 0.5.9 DeepSeek-R1 fp8 TP8 on B200, 1k/1k at 4 clients (the db dump's config 87)."""
    return next(r for r in serving_blackwell.load_rows() if "config_id=87;" in r["silicon_data_source"]
                and r["isl"] == r["osl"] == "1024" and r["concurrency"] == "4")


def _run(stack: str, drafts: int) -> dict[str, float]:
    row = _row()
    dep = replace(serving_blackwell.deployment(row), stack=stack, speculative_tokens=drafts,
                  acceptance=0.85 if drafts else 0.0)
    clients = {**row, "batch_size": str(serving_hopper_moe.concurrency(row))}
    return serving_hopper.run_row(clients, dep, serving_blackwell.shape(row))


def test_a_drafting_sglang_run_loses_one_iteration_of_ttft_and_keeps_its_tpot(
        monkeypatch: pytest.MonkeyPatch) -> None:
    on = _run("sglang-0.x", 1)  # the shipped profile is prefill-first: only the loop differs
    monkeypatch.setattr(request_intake, "SGLANG_SPECULATIVE_LOOP", False)
    off = _run("sglang-0.x", 1)
    assert on["tpot_s"] == pytest.approx(off["tpot_s"], rel=1e-9)  # the lag moves first token and finish alike
    # one decode iteration: (OSL - 1) tokens over fewer steps (1 + 0.85 tokens a step at most), so > one TPOT
    lag = off["ttft_s"] - on["ttft_s"]
    assert off["tpot_s"] < lag < 1.85 * off["tpot_s"] * 1.05


def test_the_mixed_chunk_profile_with_drafts_runs_as_sglangs_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # every other field of the mixed-chunk profile equals the shipped one (tests/serving/test_serving_hopper.py)
    assert _run(MIXED, 1) == pytest.approx(_run("sglang-0.x", 1), rel=1e-12)
    assert _run(MIXED, 0) != pytest.approx(_run("sglang-0.x", 0), rel=1e-6)  # without drafts: the mixed iterations
    monkeypatch.setattr(request_intake, "SGLANG_SPECULATIVE_LOOP", False)
    assert _run(MIXED, 1) != pytest.approx(_run("sglang-0.x", 1), rel=1e-6)
