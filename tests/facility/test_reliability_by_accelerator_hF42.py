"""Reliability by accelerator and by scale-up domain (hF42, session 42; facility/reliability.py, facility/outage.py).

Every shipped failure rate was counted on H100 (Llama 3, Epoch) or A100 (RSC); none of GB200 NVL72, B200, MI300X,
TPU or MTIA was found in the reference notes. A job on those borrows an H100 rate per GPU, and every answer built
on it says so. Where a scale-up domain spans servers (NVL72: 18 trays of 4 GPUs), one failed tray takes the whole
72-GPU domain out of a job laid out across it unless the domain holds spare trays (an ASSUMPTION option, default 0):
the GPUs a job holds and keeps out of service are counted by domain. By hand (llama3-h100, 3-day repair): a tray's
out-of-service rate is 3.789 / 1,000 / 8 / 24 x 4 x 321 / 419 per hour, m = 18 x that x 72 h = 0.0784 trays in
repair per domain; 16,384 GPUs on whole domains = 228 domains (16,416 GPUs), 228 x m x 72 = 1,287 GPUs out.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy.stats import poisson
from typer.testing import CliRunner

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.reliability_loader import load_reliability
from infraplan.cli.main import app, main
from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.outage import DEFAULT_REPAIR_S, domains_out_mean
from infraplan.facility.reliability import job_reliability, reliability_report
from infraplan.planning.campus import training_capacity
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training

TRAY_PER_HOUR = 3.789 / 1000 / 8 / 24 * 4 * 321 / 419
M = 18 * TRAY_PER_HOUR * 72.0  # trays in repair per NVL72 domain at a 3-day repair


def _borrowed(notes: list[str], accelerator: str) -> list[str]:
    return [n for n in notes if f"counted on h100-sxm, not {accelerator}: no published failure rate" in n]


def test_every_shipped_rate_names_the_catalog_accelerators_it_was_counted_on() -> None:
    rates = load_reliability().failure_rates
    assert {k: r.measured_on for k, r in rates.items()} == {
        "rsc-1": ["a100-80gb"], "rsc-1-jobs": ["a100-80gb"], "rsc-2": ["a100-80gb"], "llama3-h100": ["h100-sxm"],
        "epoch-h100": ["h100-sxm"]}
    for r in rates.values():
        assert all(load_accelerator(a).name == a for a in r.measured_on)


@pytest.mark.parametrize("system,accelerator", [("gb200-nvl72", "gb200"), ("mi300x-cluster", "mi300x"),
                                                ("mtia-400-rack", "mtia-400"), ("b200", "b200")])
def test_reliability_says_it_borrows_the_h100_rate(system: str, accelerator: str) -> None:
    r = reliability_report(system, 72, 30)
    (note,) = _borrowed(r.notes, accelerator)
    used = "used" if load_accelerator(accelerator).device_word == "GPU" else "applied per accelerator"  # hU52
    assert f"rate per GPU and its cause mix (Llama 3 Table 5) are {used} (ASSUMPTION [U])" in note
    assert r.failure_rate == "llama3-h100"


def test_h100_on_its_own_rate_says_nothing_and_a_chosen_rate_names_the_own_one() -> None:
    assert not [n for n in reliability_report("meta-genai-roce-24k", 16384, 54).notes if "was counted on" in n]
    job = job_reliability("h100-sxm", 64, 8e9, failure_rate="rsc-2")
    assert job["failure_rate_accelerator_note"] == ("failure rate rsc-2 was counted on a100-80gb, not h100-sxm "
                                                    "(counted on h100-sxm: llama3-h100, epoch-h100)")


def test_train_tokens_and_campus_goodput_notes_say_it() -> None:
    est = estimate_training("llama3-8b", "gb200-nvl72", 72, tp=1, pp=1, seq_len=4096, global_batch=72)
    totals = training_run_totals(est, "gb200-nvl72", 1e12)
    (note,) = [n for n in totals.notes if "goodput counts planned" in n]
    assert _borrowed([note], "gb200") and note.startswith("goodput counts planned interruptions at 0.87 per day")
    campus = training_capacity("mi300x", 4096)
    assert _borrowed(campus.notes, "mi300x")
    basis = goodput_basis_note(job_reliability("h100-sxm", 64, 8e9, failure_rate="rsc-1"), 64) or ""
    assert basis.startswith("goodput counts no planned interruptions: failure rate rsc-1")  # (hC73)
    assert basis.endswith("; failure rate rsc-1 was counted on a100-80gb, not h100-sxm (counted on h100-sxm: "
                          "llama3-h100, epoch-h100)")


def test_domains_out_by_hand() -> None:
    assert float(domains_out_mean(228, TRAY_PER_HOUR, 18, 0, DEFAULT_REPAIR_S)) == pytest.approx(228 * M)
    for k in (1, 2, 3):  # E[(X - k)+] summed term by term
        excess = sum((j - k) * poisson.pmf(j, M) for j in range(k + 1, 60))
        assert float(domains_out_mean(10, TRAY_PER_HOUR, 18, k, DEFAULT_REPAIR_S)) == pytest.approx(10 * excess)
    # a server that is its own domain: the node formula, nodes x rate x repair hours, bit for bit
    assert float(domains_out_mean(2048, 1.2e-4, 1, 0, DEFAULT_REPAIR_S)) == 2048 * 1.2e-4 * DEFAULT_REPAIR_S / 3600.0


def test_an_nvl72_job_holds_whole_domains_and_loses_them_to_one_tray() -> None:
    h100 = reliability_report("h100-sxm", 16384, 54)
    gb = reliability_report("gb200", 16384, 54)
    one = reliability_report("gb200", 16384, 54, spare_trays_per_domain=1)
    assert (h100.scale_up_domain_gpus, h100.domains, h100.gpus_held) == (8, 2048, 16384)
    # hZ2 77: NeMo's --segment 16 lays 16,384 GPUs 64 a rack (network.placement): 256 domains, 2 trays of each free,
    # where a restart re-forms a failed tray's segment (outage.layout_free_trays); one spare tray asked adds nothing
    assert (gb.scale_up_domain_gpus, gb.domains, gb.gpus_held) == (72, 256, 18432)
    assert (one.domains, one.gpus_held, one.spare_trays_per_domain) == (256, 256 * 72, 1)

    def excess(k: int) -> float:  # E[(X - k)+], X ~ Poisson(M): a domain's trays in repair beyond k
        return sum((j - k) * poisson.pmf(j, M) for j in range(k + 1, 60))

    assert gb.expected_gpus_out_of_service == pytest.approx(256 * 72 * excess(2))
    assert one.expected_gpus_out_of_service == gb.expected_gpus_out_of_service
    assert h100.expected_gpus_out_of_service == pytest.approx(2048 * 3.789 / 1000 / 24 * 321 / 419 * 72 * 8)
    assert gb.goodput == one.goodput == h100.goodput  # the job's interruptions: its GPUs, whatever the domain
    held = [r.goodput_of_gpus_held or 0.0 for r in (h100, gb)]
    assert held[0] > held[1] > 0  # 2,048 idle GPUs in the racks' free trays
    assert gb.goodput_of_gpus_held == pytest.approx(gb.goodput * 16384 / (18432 + 256 * 72 * excess(2)))
    whole = reliability_report("gb200", 16416, 54)  # 228 racks of 18 trays (--segment 18): no tray free
    assert (whole.domains, whole.gpus_held) == (228, 16416)
    assert whole.expected_gpus_out_of_service == pytest.approx(228 * M * 72)
    assert reliability_report("gb200", 16416, 54, spare_trays_per_domain=1).expected_gpus_out_of_service == (
        pytest.approx(242 * 72 * (M - (1 - math.exp(-M)))))  # 68 GPUs do the work: ceil(16,416 / 68) = 242
    longer = reliability_report("gb200", 16416, 54, repair_s=2 * DEFAULT_REPAIR_S)  # (linear with no tray free)
    assert longer.expected_gpus_out_of_service == pytest.approx(2 * (whole.expected_gpus_out_of_service or 0.0))
    assert [n for n in gb.notes if "leaves 2 free in each, where a restart re-forms a failed server's segment" in n]
    assert [n for n in whole.notes if "takes its whole domain out of the job's service" in n]
    assert [n for n in h100.notes if "is its own scale-up domain" in n and "3 days (ASSUMPTION [U]" in n]


def test_a_job_rate_without_a_mix_gives_no_gpus_out() -> None:
    r = reliability_report("meta-rsc", 1024, 30, failure_rate="rsc-1-jobs")
    assert r.expected_gpus_out_of_service is None and r.goodput_of_gpus_held is None and r.gpus_held == 1024


def _cli(args: list[str]) -> tuple[int, str]:
    out = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    return out.exit_code, out.output


def test_cli_prints_and_refuses_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _cli(["reliability", "--system", "gb200-nvl72", "--gpus", "1152", "--spare-trays-per-domain", "2"])
    assert code == 0 and "GPUs held" in text and "in 18 domains of 72, 2 spare trays each" in text
    code, text = _cli(["reliability", "--system", "gb200-nvl72", "--gpus", "1152", "--json", "--repair-time", "1d"])
    data = json.loads(text)
    assert code == 0 and data["domains"] == 16 and data["repair_time_s"] == 86400.0
    for bad, why in ((["--system", "gb200-nvl72", "--spare-trays-per-domain", "18"], "must be in 0 .. 17"),
                     (["--system", "h100-sxm", "--spare-trays-per-domain", "1"], "no domain spans servers")):
        assert main(["reliability", "--gpus", "512", *bad]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and why in err and "Traceback" not in err
