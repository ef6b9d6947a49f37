"""Single estimate: `estimate_training` of a plan never seen, in process, and `infraplan train ... --json` as a process.

Llama 3 405B on 16,384 H100 of the meta-genai-roce-24k cluster (the `make demo` plan: TP8 PP16 DP128 on the default
stack, whose Megatron-Bridge 0.3.1 recipe splits 126 + 2 = 128 slots evenly, VPP 8: one slot per model chunk, the
frontier row H005's PP16 x VP8; VPP 7 until hR45, 112 chunks, which its even split refuses,
`training.pipeline_split_rule`). Times are the median of
repeated calls (CPU seconds of this process for the in-process call; wall seconds for the whole process, the best
of three after an untimed one that writes any missing bytecode, as a user's installed package has it:
`bytecode_env`). The
in-process goal is checked on plans never seen: each timed call estimates a distinct plan (the demo plan at its own
sequence length) with the one-plan memo's rows and plans (`training.one_plan_memo`) emptied before it, so every
term that depends on the plan's sequence length is priced (what a new plan of a sweep or the scenario planner
costs); kept, with the cluster's pricing: what reads none of it, the layout's parameter counts and weight /
optimizer terms (`ops.params.PLAN_SHAPE_COUNTS`, keyed on the model and TP / PP / EP / DP / ZeRO; hP6, session 36),
its DP collectives and its precision's layer terms (the same memo; hP13, session 38), and what reads only the plan's
integers but its sequence: the schedule's chunks in flight and validity verdict, the NCCL communicator buffers (hS70,
session 49: each kept by all it reads, the schedule's model held, so never forgotten), and the answer's notes that
read no sequence length (`training.plan_notes.placed_plan_notes`, hP67: forgotten with the pricing).
The same plan with everything forgotten (pricing too) is printed beside it, without a goal. Also
printed, without a goal: the same plan repeated (found in the memo), a sweep of distinct plans that share their
layer rows (the demo plan over global batch sizes: the layer terms are looked up, the traffic, memory and step
assembly priced), the Python function calls per never-seen estimate (cProfile, in the timed call's memo state:
a distinct plan, the cluster's pricing kept; the fully cold count beside it, labelled), and the cost per plan when a
whole request of plans goes through the array path at once (`evaluate_plans` on 4,096 valid plans of the search
space of the same model and system).
Goals (issue 18): <= 0.3 ms in process for a plan never seen; <= 0.5 s for the whole `train` process.
The interpreter running it is printed first: the same code and answers take ~12.4 % fewer instructions an estimate
on a statically linked, PGO / LTO CPython 3.11 (Debian's 3.11.2) than on a shared-libpython build without PGO / LTO
(pyenv's 3.11.7), and pyenv's 3.12.1 / 3.13.0, built the same way as its 3.11.7, take 5.8 / 2.1 % more
(validation/notes/serving_speed_tried.md, hE sessions 52 and 54), so a time is quoted with its interpreter; the
Makefile makes .venv from the distribution's /usr/bin/python3 where it can for that reason.
"""

from __future__ import annotations

import cProfile
import itertools
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

GOAL_IN_PROCESS_S = 0.3e-3
GOAL_PROCESS_S = 0.5
MODEL, SYSTEM, GPUS = "llama3-405b", "meta-genai-roce-24k", 16384
PLAN = dict(tp=8, pp=16, cp=1, vpp=8, seq_len=8192, global_batch=2048, micro_batch=1, recompute="none", zero=3,
            dtype="bf16")
ARGS = ["train", MODEL, "--system", SYSTEM, "--gpus", str(GPUS), "--tp", "8", "--pp", "16",
        "--vpp", "8", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3", "--json"]
BATCH_PLANS = 4096
_UNSEEN = itertools.count(1)  # the never-seen plans' sequence lengths: each drawn once a process


def _estimate() -> None:
    estimate_training(MODEL, SYSTEM, GPUS, **PLAN)  # type: ignore[arg-type]


def _unseen_plan() -> dict[str, object]:
    """The demo plan at a sequence length no call of this process asked before (32 tokens shorter each call, so
    every GEMM, attention, activation and TP/CP message size is new): a plan never seen."""
    return {**PLAN, "seq_len": int(PLAN["seq_len"]) - 32 * next(_UNSEEN)}  # type: ignore[call-overload]


def never_seen_seconds(runs: int = 200) -> float:
    """CPU seconds of one estimate of a plan never seen (median): every call a distinct plan (the demo plan at its
    own sequence length, so every GEMM, attention, activation and TP/CP message size is new), with the one-plan
    memo's rows, plans and verdicts forgotten before it; the cluster and stack's pricing (kernel rates, GEMM rates
    by precision: nothing of the plan) is kept, as for a new plan of a sweep."""
    samples = []
    for _ in range(runs):
        clear_one_plan_memo(pricings=False)
        plan = _unseen_plan()
        start = time.process_time()
        estimate_training(MODEL, SYSTEM, GPUS, **plan)  # type: ignore[arg-type]
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def cold_seconds(runs: int = 200) -> float:
    """CPU seconds of the demo plan with everything the one-plan memo keeps forgotten, its cluster and stack's
    pricing included (median; printed without a goal)."""
    samples = []
    for _ in range(runs):
        clear_one_plan_memo()
        start = time.process_time()
        _estimate()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def sweep_seconds() -> tuple[float, int]:
    """CPU seconds per estimate (median) of a global-batch sweep of the demo plan, memo emptied first."""
    clear_one_plan_memo()
    samples = []
    for batch in range(2048, 32 * 2048 + 1, 2048):
        start = time.process_time()
        try:
            estimate_training(MODEL, SYSTEM, GPUS, **{**PLAN, "global_batch": batch})  # type: ignore[arg-type]
        except InputError:  # micro-batches the schedule does not take
            continue
        samples.append(time.process_time() - start)
    return statistics.median(samples), len(samples)


def memo_hit_seconds(runs: int = 200) -> float:
    """CPU seconds of one estimate of a plan the memo holds (the same plan repeated; median)."""
    _estimate()
    samples = []
    for _ in range(runs):
        start = time.process_time()
        _estimate()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def calls_per_estimate(runs: int = 20, cold: bool = False) -> float:
    """Python and C function calls one estimate makes (cProfile's count): of a plan never seen, in the timed call's
    memo state (`never_seen_seconds`: a distinct plan, rows, plans and verdicts forgotten, the cluster and stack's
    pricing kept, as the demo plan left it); `cold`: of the demo plan with everything forgotten, pricing included
    (`cold_seconds`'s state; the count printed as the never-seen one before hR61)."""
    _estimate()  # the cluster and stack's pricing, kept by the never-seen calls
    profile = cProfile.Profile()
    for _ in range(runs):
        clear_one_plan_memo(pricings=cold)
        plan = PLAN if cold else _unseen_plan()
        profile.enable()
        estimate_training(MODEL, SYSTEM, GPUS, **plan)  # type: ignore[arg-type]
        profile.disable()
    return float(pstats.Stats(profile).total_calls) / runs  # type: ignore[attr-defined]


def batch_seconds_per_plan() -> float:
    """CPU seconds per plan of one `evaluate_plans` call on BATCH_PLANS valid plans (median of 5)."""
    shape, cluster = load_model(MODEL), Cluster.resolve(SYSTEM)
    plans = enumerate_plans(shape, GPUS, 8192, 2048, ["bf16"], 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0][:BATCH_PLANS])
    evaluate_plans(shape, cluster, plans)
    samples = []
    for _ in range(5):
        start = time.process_time()
        evaluate_plans(shape, cluster, plans)
        samples.append(time.process_time() - start)
    return statistics.median(samples) / len(plans)


def bytecode_env() -> dict[str, str]:
    """The `train` process's environment: this one without PYTHONDONTWRITEBYTECODE, so that the process times a
    user's run, whose modules load from cached bytecode (pip writes the .pyc files at install, Python at a module's
    first import), not a compile of every module of src/ on each run: a shell that sets the variable on a checkout
    without __pycache__ (this VM's, session 73) made each run compile ~200 modules, 0.57-0.60 s of CPU against
    0.40-0.42 s read from bytecode (hS73, load 4-6)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def main() -> None:
    print(f"single_estimate: interpreter {platform.python_implementation()} {platform.python_version()} "
          f"({sys.executable})")
    _estimate()
    in_process = never_seen_seconds()
    walls, cpus = [], []
    command, env = [sys.executable, "-c", "from infraplan.cli.main import main; main()", *ARGS], bytecode_env()
    subprocess.run(command, check=True, capture_output=True, env=env)  # untimed: writes the .pyc files it lacks
    for _ in range(3):
        start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child's CPU: steadier than wall on a shared VM
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    process = min(walls)
    print(f"single_estimate: in process, a plan never seen (a distinct plan per call, memo emptied first) "
          f"{in_process * 1e3:.3f} ms (goal {GOAL_IN_PROCESS_S * 1e3:.1f} ms), {calls_per_estimate():,.0f} function "
          f"calls per estimate; the same plan with the cluster's pricing forgotten too {cold_seconds() * 1e3:.3f} ms, "
          f"{calls_per_estimate(cold=True):,.0f} function calls")
    sweep, plans = sweep_seconds()
    print(f"single_estimate: the same plan repeated (memo hit) {memo_hit_seconds() * 1e3:.3f} ms; a sweep of "
          f"{plans} global batch sizes {sweep * 1e3:.2f} ms per estimate")
    per_plan_us = batch_seconds_per_plan() * 1e6
    print(f"single_estimate: a request of {BATCH_PLANS} plans through the array path {per_plan_us:.1f} us per plan")
    print(f"single_estimate: train --json process {process:.2f} s (goal {GOAL_PROCESS_S} s), its CPU {min(cpus):.2f} s")
    if in_process > GOAL_IN_PROCESS_S or process > GOAL_PROCESS_S:
        print("single_estimate: FAILED a goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
