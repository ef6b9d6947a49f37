"""hR55 review of hB55's SGLang speculative loop (`serving.request_intake.SGLANG_SPECULATIVE_LOOP`, 9654422).

Fixed (each fails on 9654422):
1. `loop_scheduler` turned only the "sglang-adder" policy into prefill-first under drafts; an SGLang profile whose
   mixed chunk is written "fcfs" (as sglang-0.x-mixed-chunk.yaml was until round 19 of
   serving_hopper_moe_tried.md) kept mixing prefill with decode, though `enable_mixed_chunk = False` turns any mix
   off (sglang 0.5.6.post2 srt/server_args.py:1761-1765, read in /tmp/keep's sglang source).
2. `serve`'s assumptions line named the profile's policy ("sglang-adder policy of the stack") for a drafting run the
   loop priced prefill-first.
Mutant killer: serve-plan's probe (`Candidate._times`) must step the loop `run_pool` runs (`loop_scheduler`), not
the profile's: on the fcfs profile with drafts its FCFS fast path would judge a loop `serve` does not run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import candidate_for, steady_window, ttft_window
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.request_intake import loop_scheduler
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_sim import front_end_s
from infraplan.validation.release_stacks import data_stack

MIXED = data_stack("sglang-0.x-mixed-chunk.yaml")
SERVE = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--concurrency", "16", "--input-len", "1000",
         "--output-len", "200", "--requests", "400"]
DRAFTS = ["--speculative-tokens", "2", "--acceptance", "0.8"]


def _fcfs_stack(tmp_path: Path) -> str:
    """The shipped SGLang profile with its mixed chunk written as fcfs (every other field the shipped one's)."""
    file = tmp_path / "sglang-fcfs.yaml"
    file.write_text("extends: sglang-0.x\nname: sglang-fcfs\nserving:\n  scheduler: fcfs\n", encoding="utf-8")
    return str(file)


def test_any_sglang_mix_runs_prefill_first_with_drafts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = load_engine(_fcfs_stack(tmp_path))
    assert (engine.engine, engine.scheduler) == ("sglang", "fcfs") and loop_scheduler(engine) == "fcfs"
    assert loop_scheduler(engine, 2) == "prefill-first"
    fcfs = cli_json(capsys, [*SERVE, *DRAFTS, "--stack", _fcfs_stack(tmp_path)])
    shipped = cli_json(capsys, [*SERVE, *DRAFTS, "--stack", "sglang-0.x"])
    assert fcfs["ttft_s"] == pytest.approx(shipped["ttft_s"], rel=1e-12)
    assert fcfs["tpot_s"] == pytest.approx(shipped["tpot_s"], rel=1e-12)


def test_serve_names_the_policy_its_drafting_run_priced(capsys: pytest.CaptureFixture[str]) -> None:
    drafting = cli_json(capsys, [*SERVE, *DRAFTS, "--stack", MIXED])["assumptions"]["scheduler"]
    assert "(prefill-first policy: the stack's sglang-adder with 2 draft tokens" in drafting
    plain = cli_json(capsys, [*SERVE, "--stack", MIXED])["assumptions"]["scheduler"]
    assert "(sglang-adder policy of the stack:" in plain


def test_the_probe_steps_the_loop_serve_runs(tmp_path: Path) -> None:
    """`Candidate._times` (serve-plan's probe) gives `Candidate.run`'s times (`run_pool`, as `serve`) on the fcfs
    profile with drafts, its KV reserved at admission: both prefill-first (on the profile's fcfs the probe would step
    its FCFS fast path, `capacity_probe.steppable`: first tokens up to 57 ms apart)."""
    cluster = Cluster.resolve("h100-sxm")
    stack = tmp_path / "sglang-fcfs-reserve.yaml"
    stack.write_text(f"extends: {_fcfs_stack(tmp_path)}\nname: sglang-fcfs-reserve\nserving:\n"
                     "  kv_admission: reserve_full\n  preemption: none\n", encoding="utf-8")
    dep = Deployment(tp=1, max_batch=64, stack=str(stack), speculative_tokens=2, acceptance=0.8)
    req = build_requests(None, None, 2000, 200, 600, 6.0, 0)
    cand = candidate_for(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep, req)
    steady, judged = steady_window(req.arrival_s, cand.held), ttft_window(req.arrival_s, cand.held)
    got = cand._times(req, "mixed", steady, judged, 1e9, 99.0, front_end_s(dep), cand.runs_at_once(req, "mixed"))
    run = cand.run(req, "mixed")
    assert got is not None
    assert np.allclose(got[0], run.first_token_s, rtol=1e-12, atol=0.0)
    assert np.allclose(got[1], run.finish_s, rtol=1e-12, atol=0.0)


def test_the_probe_adds_no_schedule_ahead_lag_to_a_drafting_sglang_run() -> None:
    """serve-plan's probe (`Candidate._meets_now`) judges the TTFT `serve` reports: a drafting SGLang run has no
    one-iteration lag (`schedules_ahead` False), so a TTFT SLO just above the probe's own p99 is met; with the lag
    (the probe's `lagged` without the draft count) every TTFT moves by one of its decode iterations and it misses."""
    cluster = Cluster.resolve("h100-sxm")
    dep = Deployment(tp=1, max_batch=64, stack="sglang-0.x", speculative_tokens=2, acceptance=0.8)
    req = build_requests(None, None, 2000, 200, 600, 4.0, 0)
    cand = candidate_for(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep, req)
    steady, judged = steady_window(req.arrival_s, cand.held), ttft_window(req.arrival_s, cand.held)
    front = front_end_s(dep)
    got = cand._times(req, "mixed", steady, judged, 1e9, 99.0, front, cand.runs_at_once(req, "mixed"))
    assert got is not None
    first, finish = got
    ttft = (first - req.arrival_s + front)[judged]
    lag = ((finish - first) / np.maximum(dep.decode_steps(req.output_tokens), 1))[judged]
    slo = float(np.percentile(ttft, 99)) + 0.5 * float(lag.min())
    assert lag.min() > 1e-3  # a decode iteration: the margin a lag would take
    assert cand._meets_now(req, "mixed", (slo, 1.0), 99.0)
