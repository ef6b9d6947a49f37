"""hZ77: a shrunk restart's layout fits the racks in service, not those its kept GPUs fill, and a plan faster on
fewer GPUs is named, its repairs taken back at the job's next restart.

1. A shrink unit larger than a rack (llama3-70b TP8 PP20 on 320 GPUs of gb200-nvl72-superpod: 160 GPUs a replica).
   With 4 of the 8 racks in service the job keeps 160 GPUs, which NeMo's launcher lays out afresh at --segment 10
   (40 a rack) on 4 racks; the racks were inferred from the kept GPUs, ceil(160 / 72) = 3, so the layout was
   refused and the job priced idle (share 0). Goodput with repairs 98.77 % -> 99.00 %.
2. gpt-oss-120b EP64 on all 576 GPUs (72 a rack, EP groups across rack edges) runs 1.16x faster on 448 with a rack
   out and 1.41x on 512 (64 a rack) with none: the plan is slower than itself on fewer GPUs. The note names 512,
   the count `train --gpus 512` prices at 1.41x (EP32: 1.29x, 544 between slower); train --tokens and
   reliability --plan give one goodput.
3. A repair that would return the job to its slower whole plan waits for the job's next interruption's restart
   (`GROW_BACK_SLOWER`), the share it keeps above the whole plan until then counted; before, taken at no cost.
"""

from __future__ import annotations

import math

import pytest

from infraplan.cluster import Cluster
from infraplan.facility import spare_policy
from infraplan.facility.spare_policy import short_of_spares
from infraplan.planning.shrunk_plan import plan_reliability, shrunk_speed
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


def _deep_pipeline() -> object:
    return estimate_training("llama3-70b", NVL72, 320, tp=8, pp=20, dp=2, seq_len=8192, global_batch=60,
                             micro_batch=1, dtype="fp8")


def test_a_replica_wider_than_a_rack_is_laid_on_the_racks_in_service() -> None:
    est = _deep_pipeline()
    speed = shrunk_speed(est, NVL72)
    assert speed(160) == 0.0  # the kept GPUs alone: 3 racks, too few for --segment 10's 4
    assert speed(160, 4 * 72) == pytest.approx(speed._share(1), rel=1e-12)  # 4 racks in service: it runs
    assert speed(160, 4 * 72) > 0.6
    assert speed(160, 3 * 72) == 0.0
    run = training_run_totals(est, NVL72, 1e12)
    assert run.goodput_with_repairs == pytest.approx(0.99164, abs=5e-5)  # base: 0.98775 (the job idle on 4 racks)
    # (0.99001 until hZ2 77 counted the 2 free trays of each rack --segment 16 leaves as spares)


def test_the_plan_faster_on_fewer_gpus_is_named_and_priced_alike() -> None:
    plan = {"tp": 1, "pp": 1, "ep": 64, "seq_len": 8192, "global_batch": 4608, "dtype": "mxfp8"}
    est = estimate_training("gpt-oss-120b", NVL72, 576, **plan)
    run = training_run_totals(est, NVL72, 1e13)
    fewer = estimate_training("gpt-oss-120b", NVL72, 512, **plan)  # 64 a rack: every EP group inside one
    ratio = fewer.tokens_per_s / est.tokens_per_s
    assert ratio == pytest.approx(1.41, abs=0.005)
    line = next(n for n in run.notes if "--no-spare-policy" in n)
    assert "on 448 GPUs its smaller plan gives 1.16x" in line
    assert "the whole plan is slower than itself on fewer GPUs: 1.41x its tokens a second on 512 GPUs" in line
    assert "`infraplan search --gpus 512`" in line
    ep32 = {**plan, "ep": 32}  # 1.06x on 480 with a rack out; 544 (68 a rack) slower, 512 faster: all probed
    line = next(n for n in training_run_totals(estimate_training("gpt-oss-120b", NVL72, 576, **ep32), NVL72,
                                               1e13).notes if "--no-spare-policy" in n)
    assert "on 480 GPUs its smaller plan gives 1.06x" in line and "1.29x its tokens a second on 512 GPUs" in line
    report = plan_reliability(est, NVL72, model="gpt-oss-120b")
    assert report.goodput_with_repairs == pytest.approx(run.goodput_with_repairs, rel=1e-12)
    assert run.goodput_with_repairs > 1.05  # base: 1.0421 (the whole plan taken back at each repair, free)


def test_a_repair_to_a_slower_plan_waits_for_the_next_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """432 GPUs on 6 of gb200-nvl72-superpod's 8 racks (2 spare), a smaller plan 1.5x as fast a GPU: 3 racks out
    keep 360 GPUs at 1.25x; the repair to 2 out (the whole plan, 1x) is taken at the next interruption (mean
    1 / (1 / MTTF) = 1 day here), so the job runs 0.25 above the whole plan that long after each such repair."""
    cluster = Cluster.resolve(NVL72)
    hold = {"expected_gpus_out_of_service": 30.0, "domain_gpus": 72, "domains": 6}
    job = {"goodput": 0.95, "planned_interruptions_per_day": 0.0, "restart_s": 600.0, "checkpoint_write_s": 60.0,
           "job_mttf_s": 86_400.0, "checkpoint_interval_s": 1_800.0, "device_word": "GPU"}
    repair_s = 3 * 86_400.0

    def policy() -> dict[str, float]:
        short = short_of_spares(cluster, 432, job, hold, repair_s, "shrink", 72,
                                speed=lambda kept, *_: 1.5 * kept / 432)
        assert short is not None
        return short

    waits = policy()
    monkeypatch.setattr(spare_policy, "GROW_BACK_SLOWER", False)
    free = policy()
    mean = 8 * 30.0 / (6 * 72)  # racks out at once in the system
    rate = mean / repair_s * math.exp(2 * math.log(mean) - mean) / 2  # repairs from 3 out to 2, a second
    assert waits["throughput_fraction"] - free["throughput_fraction"] == pytest.approx(rate * 0.25 * 86_400.0,
                                                                                       rel=1e-9)
    assert waits["grows_per_day"] == free["grows_per_day"]  # (never by a restart of its own)
