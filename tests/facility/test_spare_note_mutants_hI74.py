"""Mutation wave hI74 on `facility.reliability.spare_note` (hR73): where a job of whole servers gets the line.

A server is its own domain on a DGX H100 SuperPOD (2,048 servers of 8), so the line is given only where the job's
servers are all in service less than 99 % of the time (module docstring). A job's servers out of service at once are
Poisson with mean (system servers) x (the job's mean out) / (job servers), ~17.83 for llama3-405b at 10 days: with
25 spare servers P(N <= 25) = 95.9 % (said), with 28 it is 99.1 % (not said). A mutant moving the 99 % threshold to
90 % lived.
"""

from __future__ import annotations

import pytest
from scipy.stats import poisson

from infraplan.facility.reliability import reliability_report

SUPERPOD = "dgx-h100-superpod"


def _line(gpus: int) -> tuple[list[str], float]:
    report = reliability_report(SUPERPOD, gpus, days=10, model="llama3-405b")
    assert report.expected_gpus_out_of_service is not None
    mean = 2048 * report.expected_gpus_out_of_service / (report.domains * 8)
    return [n for n in report.notes if n.startswith("the goodput (")], mean


@pytest.mark.parametrize(("spare", "said"), [(25, True), (28, False)])
def test_whole_server_jobs_are_told_below_99_percent_in_service(spare: int, said: bool) -> None:
    lines, mean = _line(16384 - 8 * spare)
    up = float(poisson.cdf(spare, mean))
    assert mean == pytest.approx(17.83, abs=0.01)
    assert (up < 0.99) == said
    if said:
        (line,) = lines
        assert f"{spare} servers beyond the job's {2048 - spare:,}" in line
        assert f"in service {100 * up:.1f} % of the time" in line and "a run's wall clock 1x as long" in line
    else:
        assert lines == []



def test_a_part_filled_domain_is_no_spare_for_a_full_one(tmp_path) -> None:
    """9,180 GPUs = 127 NVL72-style domains + one of 36 (hM73's file): a 9,144-GPU job fills the 127 full domains; the
    36-GPU one cannot take a failed 72-GPU domain's work, so none is spare and the job waits for repairs (a mutant
    counting the part-filled domain as a spare, `built` rounded up, lived)."""
    from tests.facility.test_product_walk_hN73 import SYSTEM

    path = tmp_path / "part_filled.yaml"
    path.write_text(SYSTEM.replace("total_accelerators: 9216", "total_accelerators: 9180"))
    report = reliability_report(str(path), 9144, 30)
    assert report.domains == 127
    (line,) = [n for n in report.notes if n.startswith("the goodput (")]
    assert "0 72-GPU domains beyond the job's 127" in line  # (a spare would be "1 72-GPU domain beyond")


def test_an_accelerator_preset_is_sized_by_the_job_and_gets_no_spare_line() -> None:
    """`reliability gb200 --gpus 576` builds a cluster of the job's size (the generic cluster): spares beyond it are
    bought with it, so the line is not given, where the 576-GPU GB200 NVL72 SuperPOD, filled by the job, says it has
    none (hR73's case; a mutant giving the line on the generic cluster lived)."""
    generic = reliability_report("gb200", 576, days=10, model="llama3-70b")
    assert generic.domains == 8 and generic.expected_gpus_out_of_service
    assert [n for n in generic.notes if n.startswith("the goodput (")] == []
    system = reliability_report("gb200-nvl72-superpod", 576, days=10, model="llama3-70b")
    (line,) = [n for n in system.notes if n.startswith("the goodput (")]
    assert "0 72-GPU domains beyond the job's 8" in line


def test_train_tokens_adds_the_domain_hold_only_with_the_spare_line() -> None:
    """Llama 3's case (16,384 of meta-genai-roce-24k's 24,576 GPUs, 8-GPU servers): its servers are all in service
    > 99 % of the time, so `train --tokens` says nothing of spares and nothing of the hold either (the hold's line
    comes with the spare line, `training_run_totals`; a mutant always adding it lived); the NVL72 job with no spare
    gets both."""
    from infraplan.planning.training_run import training_run_totals
    from infraplan.training.estimate import estimate_training

    estimate = estimate_training("llama3-8b", "meta-genai-roce-24k", 16384, tp=8, seq_len=8192, global_batch=2048)
    run = training_run_totals(estimate, "meta-genai-roce-24k", 1e12)
    assert not any(n.startswith("the goodput (") for n in run.notes)
    assert not any("-GPU job holds" in n for n in run.notes), run.notes
    nvl = estimate_training("llama3-70b", "gb200-nvl72-superpod", 576, tp=4, pp=2, seq_len=8192, global_batch=576,
                            dtype="fp8")
    notes = training_run_totals(nvl, "gb200-nvl72-superpod", 2e12).notes
    assert any(n.startswith("the goodput (") for n in notes)
    assert any("the 576-GPU job holds 8 domains = 576 GPUs" in n for n in notes)
