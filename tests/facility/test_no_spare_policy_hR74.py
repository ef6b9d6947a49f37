"""hR (session 74): a job with no spare unit waits for the repair or shrinks, and the wall clock counts it.

hR73 made `train --tokens` and `reliability` say that a 576-GPU job filling gb200-nvl72-superpod has no spare domain
(all 8 in service 53.4 % of the time, 1.87x if it waited) while the wall clock kept Llama 3's restart-on-spare
assumption (arXiv:2407.21783 Sec. 3.3.4). Now `--no-spare-policy shrink|wait` (default shrink,
facility/spare_policy.py) prices it: `train --tokens`, `reliability`, `plan` training rows and the web give one
goodput with repairs for the same job (the web: tests/web/test_no_spare_policy_web_hR74.py), and a job whose spares
always suffice keeps its figures bit for bit.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy.stats import poisson

from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.facility.checkpoint_goodput import goodput
from infraplan.facility.reliability import reliability_report
from infraplan.facility.spare_policy import plan_shrink_unit
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

NVL72 = "gb200-nvl72-superpod"
TRAIN = ["train", "llama3-70b", "--system", NVL72, "--gpus", "576", "--tp", "4", "--pp", "2", "--seq-len", "8192",
         "--global-batch", "576", "--dtype", "fp8", "--tokens", "2T"]


@pytest.fixture(scope="module")
def estimate():
    """hW73's job: TP4 PP2 DP72 on all 576 GPUs (8 NVL72 domains) of the SuperPOD: no spare domain."""
    return estimate_training("llama3-70b", NVL72, 576, tp=4, pp=2, seq_len=8192, global_batch=576, dtype="fp8")


def test_wait_idles_while_a_domain_is_out_and_the_wall_clock_counts_it(estimate) -> None:
    run = training_run_totals(estimate, NVL72, 2e12, no_spare_policy="wait")
    assert run.no_spare_policy == "wait"
    up = math.exp(-run.expected_gpus_out_of_service / 72.0)  # P(none of the 8 domains out), Poisson
    assert run.full_size_fraction == pytest.approx(up, rel=1e-12) and f"{up:.3f}" == "0.534"
    assert run.goodput_with_repairs == pytest.approx(run.goodput * up, rel=1e-12)
    assert run.time_to_train_s == pytest.approx(run.compute_time_s / (run.goodput * up), rel=1e-12)
    assert run.time_to_train_s / (run.compute_time_s / run.goodput) == pytest.approx(1.872, abs=1e-3)
    assert run.gpu_hours == pytest.approx(576 * run.time_to_train_s / 3600.0, rel=1e-12)  # GPU-hours follow
    planned = load_failure_rate(run.failure_rate).planned_interruptions_per_day / 86400.0
    running = run.time_to_train_s * up  # interruptions end a running job: none while it idles
    assert run.expected_interruptions == pytest.approx(running * (1.0 / run.job_mttf_s + planned), rel=1e-9)


def smaller_plan_speed(estimate, domains: int) -> float:
    """hR2 (session 74): the share of full-size tokens a second of the TP4 PP2 plan on `domains` NVL72 domains, the
    global batch of 576 kept: 9 replicas a domain, ceil(576 / replicas) micro-batches on the busiest."""
    replicas = 9 * domains
    per = math.ceil(576 / replicas)
    smaller = estimate_training("llama3-70b", NVL72, 8 * replicas, tp=4, pp=2, dp=replicas, seq_len=8192,
                                global_batch=replicas * per, dtype="fp8")
    return smaller.tokens_per_s * 576 / (replicas * per) / estimate.tokens_per_s


def test_shrink_runs_on_the_domains_in_service(estimate) -> None:
    """DP72 replicas of 8 GPUs: with k domains out the job runs on 8 - k of them, at the smaller plan's speed
    (hR2: its step priced again at the same global batch); a repaired domain is taken back by a restart of its own
    (10 min against ~21 h to the next interruption)."""
    run = training_run_totals(estimate, NVL72, 2e12)  # the default
    assert run.no_spare_policy == "shrink"
    mean = 8 * run.expected_gpus_out_of_service / 576.0
    speeds = {d: smaller_plan_speed(estimate, d) for d in range(1, 8)} | {0: 0.0, 8: 1.0}
    share = sum(poisson.pmf(k, mean) * speeds[max(8 - k, 0)] for k in range(60))
    linear = sum(poisson.pmf(k, mean) * max(8 - k, 0) / 8 for k in range(60))
    assert linear == pytest.approx(1.0 - mean / 8.0, rel=1e-6)  # E[min(X, 8)] = mean here
    assert share < linear  # 7 domains' 63 replicas: 10 micro-batches on the busiest, not 576 / 63 = 9.14
    grows_per_s = mean / (3 * 86400.0) * poisson.cdf(6, mean)  # returns to 0..6 out: from 1..7, the job running
    planned = load_failure_rate(run.failure_rate).planned_interruptions_per_day / 86400.0
    with_grows = float(goodput(run.checkpoint_interval_s, run.checkpoint_write_s, run.restart_s, run.job_mttf_s,
                               planned + grows_per_s))
    assert run.goodput_with_repairs == pytest.approx(with_grows * share, rel=1e-6)
    assert f"{run.time_to_train_s / (run.compute_time_s / run.goodput):.3f}" == "1.109"  # 1.087 at the share
    assert f"{run.time_to_train_s / 86400:.2f}" == "12.85"  # hR74's 12.59 days with each replica at full speed
    (line,) = [n for n in run.notes if n.startswith("the goodput (")]
    assert "--no-spare-policy shrink (the default)" in line and "1.11x as long" in line
    assert "shrink units of 8 GPUs" in line and "90.3 % of full-size throughput" in line
    assert "each smaller plan's step priced at the same global batch" in line


def test_the_smaller_plan_is_not_its_replicas_share(estimate) -> None:
    """hR2: 63 replicas cannot split 576 sequences evenly (10 micro-batches on the busiest: slower than 7/8), while
    36 replicas run 16 micro-batches each against 8, the PP2 bubble a smaller share of the step (faster than 1/2)."""
    from infraplan.planning.shrunk_plan import shrunk_speed

    speed = shrunk_speed(estimate, NVL72)
    assert speed(504) == pytest.approx(smaller_plan_speed(estimate, 7), rel=1e-12) and speed(504) < 0.875 - 0.05
    assert speed(288) == pytest.approx(smaller_plan_speed(estimate, 4), rel=1e-12) and speed(288) > 0.5 + 0.02
    assert speed(576) == 1.0 and speed(7) == 0.0 and not speed.refused


def test_a_data_parallel_job_of_two_micro_batches_a_replica_loses_a_third_on_one_domain_out() -> None:
    """hR2: llama3-8b TP1 DP576 at a global batch of 1,152 (2 sequences a replica): 504 replicas run 3 on the
    busiest, 2/3 of full speed where the replicas' share says 7/8; its wall clock counts it."""
    from infraplan.planning.shrunk_plan import shrunk_speed

    est = estimate_training("llama3-8b", NVL72, 576, seq_len=8192, global_batch=1152, dtype="fp8")
    assert est.config.dp == 576
    assert shrunk_speed(est, NVL72)(504) == pytest.approx(2 / 3, rel=2e-3)
    run = training_run_totals(est, NVL72, 2e12)
    assert run.goodput_with_repairs < 0.85 < 0.90 < reliability_report(
        NVL72, 576, days=10, model="llama3-8b", shrink_unit_gpus=1).goodput_with_repairs  # (no plan: the share)


def test_train_and_reliability_give_one_answer(estimate, capsys: pytest.CaptureFixture[str]) -> None:
    """The same job asked of `reliability` at the plan's shrink unit (one DP replica, 8 GPUs), and of the CLI; hR2:
    reliability holds no plan, so its shrink prices each replica at full speed (hR74's 91.1 %), train the smaller
    plans."""
    c = estimate.config
    unit = plan_shrink_unit(c.tp, c.cp, c.pp, c.ep, c.etp)
    assert unit == 8
    for policy in ("shrink", "wait"):
        run = training_run_totals(estimate, NVL72, 2e12, no_spare_policy=policy)
        report = reliability_report(NVL72, 576, days=10, model="llama3-70b", no_spare_policy=policy,
                                    shrink_unit_gpus=unit)
        if policy == "wait":
            assert report.goodput_with_repairs == pytest.approx(run.goodput_with_repairs, rel=1e-12)
        else:
            assert f"{report.goodput_with_repairs:.4f}" == "0.9114" and f"{run.goodput_with_repairs:.4f}" == "0.8928"
        assert report.full_size_fraction == pytest.approx(run.full_size_fraction, rel=1e-12)
        capsys.readouterr()
        assert main([*TRAIN, "--no-spare-policy", policy, "--json"]) == 0
        cli = json.loads(capsys.readouterr().out)
        assert cli["time_to_train_s"] == pytest.approx(run.time_to_train_s, rel=1e-12)
        assert cli["no_spare_policy"] == policy


def test_a_plan_training_row_on_the_system_prices_the_same_wall_clock() -> None:
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "nvl72", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 576,
                      "seq_len": 4096, "global_batch": 576}],
        "pools": [{"name": "nvl", "device": "gb200", "system": NVL72, "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}))
    (row,) = plan.services
    cluster = Cluster.resolve(NVL72)
    best = search_plans("llama3-8b", cluster, 576, 4096, 576, dtype="auto", top=1, compare_dtypes=True).best
    assert best is not None
    c = best.config
    est = estimate_training("llama3-8b", cluster, c.gpus, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=c.vpp,
                            seq_len=c.seq_len, global_batch=c.global_batch, micro_batch=c.micro_batch,
                            recompute=c.recompute, offload_layers=c.offload_layers, zero=c.zero, dtype=c.dtype,
                            attention=c.attention, order=c.order, sequence_parallel=c.sequence_parallel,
                            schedule=c.schedule, etp=c.etp)
    run = training_run_totals(est, cluster, 1e12)
    assert run.full_size_fraction is not None and run.goodput_with_repairs < run.goodput  # short of spares at times
    assert row.time_to_train_s == pytest.approx(run.time_to_train_s, rel=1e-9)
    assert row.goodput == pytest.approx(run.goodput, rel=1e-12)


def test_shrink_is_never_worse_than_wait_and_a_larger_unit_never_better() -> None:
    """A job filling the 2,048 servers of dgx-h100-superpod: ~17.8 servers out at once, never all in service."""
    wait = reliability_report("dgx-h100-superpod", 16384, days=10, no_spare_policy="wait")
    assert wait.full_size_fraction is not None and wait.full_size_fraction < 1e-7
    shrunk = [reliability_report("dgx-h100-superpod", 16384, days=10, shrink_unit_gpus=u).goodput_with_repairs
              for u in (8, 64, 128, 1024)]
    assert all(a > b for a, b in zip(shrunk, shrunk[1:], strict=False)) and shrunk[-1] > wait.goodput_with_repairs
    assert 0.90 < shrunk[0] < wait.goodput  # ~0.9 % of the servers out, each a lost 8-GPU replica
    # a unit of the whole job (a DP-1 plan) cannot shrink: it waits
    whole = reliability_report("dgx-h100-superpod", 16384, days=10, shrink_unit_gpus=16384)
    assert whole.goodput_with_repairs == pytest.approx(wait.goodput_with_repairs, rel=1e-12)


def test_jobs_whose_spares_always_suffice_keep_their_figures_bit_for_bit() -> None:
    """Llama 3: 16,384 H100 of the 24,576-GPU cluster: 1,024 spare servers, P(more out) 0 in double precision."""
    estimate = estimate_training("llama3-8b", "meta-genai-roce-24k", 16384, tp=8, seq_len=8192, global_batch=2048)
    for policy in ("shrink", "wait"):
        run = training_run_totals(estimate, "meta-genai-roce-24k", 1e12, no_spare_policy=policy)
        assert run.full_size_fraction is None and run.goodput_with_repairs == run.goodput
        assert run.time_to_train_s == run.compute_time_s / run.goodput  # exactly the restart-on-spare wall clock
    # an accelerator preset is sized by the job (its spares bought with it): nothing to wait for
    generic = estimate_training("llama3-8b", "h100-sxm", 64, tp=8, seq_len=8192, global_batch=64)
    run = training_run_totals(generic, "h100-sxm", 1e11, no_spare_policy="wait")
    assert run.full_size_fraction is None and run.time_to_train_s == run.compute_time_s / run.goodput


@pytest.mark.parametrize("args, words", [
    (["--no-spare-policy", "wait"], "--no-spare-policy prices a whole run's wall clock: it needs --tokens"),
    (["--tokens", "1T", "--no-spare-policy", "idle"], "--no-spare-policy must be one of shrink | wait, got 'idle'"),
])
def test_a_policy_without_tokens_or_unknown_is_one_line(args: list[str], words: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "8", *args])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err


def test_reliability_refuses_a_shrink_unit_above_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reliability", "--system", NVL72, "--gpus", "144", "--shrink-unit", "288"])
    err = capsys.readouterr().err
    assert code == 2 and "--shrink-unit must divide the job's 144 GPUs" in err and "Traceback" not in err
