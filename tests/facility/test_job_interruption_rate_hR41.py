"""RSC's observed job MTTFs against its node failure rate (hR41, validation/notes/product_review_tried.md).

Kokolis et al. (HPCA 2025) give r_f = 6.50 node failures per 1,000 node-days on RSC-1 (its projections: 1.8 h at
16,384 GPUs) and observed job MTTFs of 7.9 h at 1,024 GPUs and 47.7 days at 8, which r_f puts at 28.8 h and 154
days: jobs end for more than node failures. The all-cause rate `rsc-1-jobs` is derived from the 1,024-GPU figure
alone (24 / (7.9 x 128) per node-day) and checked on the 8-GPU one; r_f stays the default, and the result says
which rate it used and, on r_f, the job MTTF at all causes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.reliability_loader import default_failure_rate_name, load_failure_rate, load_reliability
from infraplan.cli import main
from infraplan.facility.checkpoint_goodput import job_mttf_s
from infraplan.facility.reliability import reliability_report
from infraplan.validation.facility import load_facility_cases, run_facility_case

HOUR, DAY = 3600.0, 86400.0


def _rate_note(notes: list[str]) -> str:
    (note,) = [n for n in notes if n.startswith("job MTTF at failure rate")]
    return note


def test_the_all_cause_rate_is_the_1024_gpu_observation_and_misses_the_8_gpu_one_by_12_percent() -> None:
    jobs = load_failure_rate("rsc-1-jobs")
    assert jobs.failures_per_1000_node_days == pytest.approx(24 / (7.9 * 128) * 1000, abs=0.005)  # 23.73
    assert float(job_mttf_s(1024, jobs)) / HOUR == pytest.approx(7.9, rel=1e-3)
    eight = float(job_mttf_s(8, jobs)) / DAY  # one 8-GPU node: 1,000 / 23.73 days
    assert eight == pytest.approx(42.14, abs=0.01) and eight / 47.7 - 1 == pytest.approx(-0.1165, abs=1e-3)
    node = load_failure_rate("rsc-1")  # r_f itself is unchanged: the paper's projections and the formula's 28.8 h
    assert float(job_mttf_s(16384, node)) / HOUR == pytest.approx(1.80, abs=0.01)
    assert float(job_mttf_s(1024, node)) / HOUR == pytest.approx(28.85, abs=0.01)
    assert jobs.failures_per_1000_node_days / node.failures_per_1000_node_days == pytest.approx(3.65, abs=0.01)


def test_r_f_stays_the_default_and_each_rate_says_what_it_counts() -> None:
    assert default_failure_rate_name("a100-80gb") == "rsc-1"
    rates = load_reliability().failure_rates
    assert {name: r.counts for name, r in rates.items()} == {
        "rsc-1": "node_failures", "rsc-1-jobs": "job_interruptions", "rsc-2": "node_failures",
        "llama3-h100": "job_interruptions", "epoch-h100": "node_failures"}
    for name, rate in rates.items():  # a companion is an all-cause rate of the same node
        if rate.all_causes is not None:
            other = rates[rate.all_causes]
            assert rate.counts == "node_failures" and other.counts == "job_interruptions", name
            assert other.accelerators_per_node == rate.accelerators_per_node
    assert rates["rsc-1"].all_causes == "rsc-1-jobs"
    assert "7.9" in rates["rsc-1-jobs"].source and "U:" in rates["rsc-1-jobs"].source


def test_the_report_says_which_rate_and_on_r_f_the_all_cause_mttf() -> None:
    big = reliability_report("meta-rsc", 1024)
    assert big.failure_rate == "rsc-1" and big.failure_rate_counts == "node_failures"
    assert big.job_mttf_s / HOUR == pytest.approx(28.85, abs=0.01)  # the answer stays r_f's
    note = _rate_note(big.notes)
    assert note.startswith("job MTTF at failure rate rsc-1: 6.5 node failures")
    assert "ended by all causes at 23.73 per 1,000 node-days: job MTTF 7.9 h at 1,024 GPUs" in note
    assert note.endswith("(--failure-rate rsc-1-jobs)")
    assert "job MTTF 42.1 days at 8 GPUs" in _rate_note(reliability_report("meta-rsc", 8).notes)
    jobs = reliability_report("meta-rsc", 1024, failure_rate="rsc-1-jobs")
    assert jobs.failure_rate_counts == "job_interruptions" and jobs.job_mttf_s / HOUR == pytest.approx(7.9, rel=1e-3)
    assert "--failure-rate" not in _rate_note(jobs.notes) and "every cause that ends a job" in _rate_note(jobs.notes)
    assert "upper bound" in _rate_note(reliability_report("meta-rsc", 1024, failure_rate="rsc-2").notes)


def test_a_users_rate_may_leave_what_it_counts_unstated(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("failures_per_1000_node_days: 4\naccelerators_per_node: 8\nsource: our cluster, 2026\n")
    r = reliability_report("meta-rsc", 64, failure_rate=str(mine))
    assert r.failure_rate_counts is None and "not stated" in _rate_note(r.notes)


def test_the_command_names_the_rate_and_refuses_an_unknown_count(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reliability", "--system", "meta-rsc", "--gpus", "1024", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["failure_rate_counts"] == "node_failures"
    assert any("(--failure-rate rsc-1-jobs)" in n for n in data["notes"])
    assert main(["reliability", "--system", "meta-rsc", "--gpus", "1024", "--failure-rate", "rsc-1-jobs"]) == 0
    assert "23.73 job interruptions per 1,000 8-GPU node-days" in " ".join(capsys.readouterr().out.split())
    bad = tmp_path / "bad.yaml"
    bad.write_text("failures_per_1000_node_days: 4\naccelerators_per_node: 8\ncounts: crashes\nsource: x\n")
    assert main(["reliability", "--system", "meta-rsc", "--gpus", "8", "--failure-rate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "counts" in err and "Traceback" not in err


def test_the_8_gpu_observation_is_a_gated_check_and_the_1024_gpu_one_is_not() -> None:
    rows = {c["id"]: run_facility_case(c) for c in load_facility_cases() if c["id"].startswith("rsc1-")}
    check = rows["rsc1-mttf-8gpu-observed"]
    assert check["gated"] and check["passes"] and check["error"] == pytest.approx(-0.1165, abs=1e-3)
    assert not rows["rsc1-mttf-1k-gpus-observed"]["gated"]  # the derivation's input: no check of itself
    assert rows["rsc1-mttf-1k-gpus-observed"]["predicted"] == pytest.approx(28.85, abs=0.01)  # still r_f's
