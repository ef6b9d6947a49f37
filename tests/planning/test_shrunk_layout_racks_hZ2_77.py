"""hZ2 77: one rule for the racks a job's layout holds, and a shrunk restart priced on its full job's layout.

1. A restart keeping the full job's placement (`ShrunkSpeed._as_laid`) runs that placement: deepseek-v3 EP32 on 480
   GPUs of gb200-nvl72-superpod (NeMo's --segment 15: 60 GPUs a rack) on 7 racks in service runs 7 x 60 = 420,
   416 in whole shrink units of 32, priced at 60 a rack (`Cluster.laid_as`); before, 480 (8 segments on 7 racks)
   was counted and the count priced laid out afresh (416 at --segment 13, 52 a rack).
2. The job holds the racks its placement fills (`network.placement.domains_needed`): 480 GPUs hold 8 racks, not
   ceil(480 / 72) = 7, and its segments leave 3 trays of each free, where a restart re-forms a failed tray's segment
   (`outage.layout_free_trays`); a job whose placement needs more racks than the system has is refused in one line
   (440 GPUs: --segment 11, 10 racks of the SuperPOD's 8).
"""

from __future__ import annotations

import math

import pytest

from infraplan.catalog.reliability_loader import load_reliability
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.facility import outage
from infraplan.facility.outage import DEFAULT_REPAIR_S, domain_hold
from infraplan.planning.shrunk_plan import plan_reliability, shrunk_speed
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


def _deepseek(gpus: int = 480) -> object:
    return estimate_training("deepseek-v3", NVL72, gpus, tp=1, pp=1, dp=gpus, cp=1, ep=32, seq_len=4096,
                             global_batch=2 * gpus, micro_batch=2, recompute="none", zero=3, dtype="fp8",
                             stack="nemo-26.04")


def test_a_restart_on_the_full_jobs_layout_is_priced_at_that_layout() -> None:
    speed = shrunk_speed(_deepseek(), NVL72)
    assert speed._as_laid(480, 7) == 416  # 7 segments of 60, whole units of 32 (before: 480, 8 segments)
    assert speed._as_laid(480, 8) == 480
    cluster = Cluster.resolve(NVL72)
    laid = cluster.laid_as(60)
    assert laid.placed(416).fabric.placement_unit == 60  # (afresh: 52, --segment 13)
    assert cluster.placed(416).fabric.placement_unit == 52
    assert laid.placed(60) is cluster and laid.placed(448) is cluster.placed(480)  # the base's twins, shared
    pinned, afresh = speed._priced(416, 60), speed._priced(416, None)
    assert pinned == pytest.approx(speed._share(416, 60), rel=1e-12) and speed.refused == []
    assert pinned < 0.95 * afresh  # EP32 blocks across the edges of 60-GPU segments (0.472 against 0.507)


def test_the_job_holds_the_racks_its_placement_fills() -> None:
    node = Cluster.resolve(NVL72).system.node
    rate = load_reliability().failure_rates["llama3-h100"]

    def hold(gpus: int) -> dict[str, object]:
        return domain_hold(gpus, 4, 72, 0, "llama3-h100", rate, DEFAULT_REPAIR_S, "GPU", node)

    assert [(hold(g)["domains"], hold(g)["free_trays"]) for g in (480, 512, 576, 320, 64)] == [
        (8, 3), (8, 2), (8, 0), (5, 2), (1, 2)]
    assert domain_hold(480, 4, 72, 0, "llama3-h100", rate, DEFAULT_REPAIR_S)["domains"] == 7  # no node: by GPUs
    m = 18 * rate.per_accelerator_hour * 4 * outage.node_out_of_service_share("llama3-h100", rate)[0] * 72.0
    excess = m - 3 + sum((3 - j) * math.exp(-m) * m**j / math.factorial(j) for j in range(3))  # E[(X - 3)+]
    assert hold(480)["expected_gpus_out_of_service"] == pytest.approx(8 * 72 * excess, rel=1e-9)


def test_train_and_reliability_give_one_answer_on_the_layouts_racks(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama3-70b TP8 PP20 on 480 GPUs: 8 racks held, none spare; a rack out leaves 504 GPUs, which hold 3 replicas
    but not --segment 15's 8 racks, so the job restarts on 320 (`short_of_spares` asks the plan, not 1.0)."""
    est = estimate_training("llama3-70b", NVL72, 480, tp=8, pp=20, dp=3, seq_len=8192, global_batch=60,
                            micro_batch=1, dtype="fp8")
    run = training_run_totals(est, NVL72, 1e12)
    report = plan_reliability(est, NVL72, model="llama3-70b")
    assert report.goodput_with_repairs == pytest.approx(run.goodput_with_repairs, rel=1e-12)
    assert run.goodput_with_repairs == pytest.approx(0.99082, abs=5e-5)  # base: 0.94999 (7 racks, 1 spare)
    speed = shrunk_speed(est, NVL72)
    assert speed(480, 7 * 72) == pytest.approx(speed._priced(2, None), rel=1e-12)  # 320 GPUs on 5 racks
    assert speed(480, 7 * 72) < 0.75 and speed.unfit == {480: 320}
    assert speed(480, 8 * 72) == speed(480) == 1.0
    monkeypatch.setattr(outage, "FREE_TRAYS", False)  # a failed tray takes its rack out: any rack out shrinks
    assert training_run_totals(est, NVL72, 1e12).goodput_with_repairs == pytest.approx(0.84940, abs=5e-5)


@pytest.mark.parametrize("command", [
    ["train", "llama3-70b", "--tp", "4", "--pp", "2", "--seq-len", "8192", "--global-batch", "3080"],
    ["search", "llama3-70b", "--seq-len", "8192", "--global-batch", "3080"],
    ["reliability", "--model", "llama3-70b"],
])
def test_a_job_whose_placement_needs_more_racks_than_the_system_is_refused(capsys: pytest.CaptureFixture[str],
                                                                         command: list[str]) -> None:
    code = main([*command, "--system", NVL72, "--gpus", "440"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--segment 11 nodes" in err and "10 domains, and system gb200-nvl72-superpod has 8" in err
    assert main([*command, "--system", NVL72, "--gpus", "448"]) == 0  # --segment 16: 7 racks
