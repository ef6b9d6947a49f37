"""A job inside one scale-up domain has no Slurm segment: its note says the servers it uses and those it leaves free
(hR2 77: an 8-GPU job on a GB200 NVL72 rack, and 64 MTIA 400 on their rack, were said to be laid at "NeMo's
--segment", a launcher rule for jobs beyond one rack that neither runs)."""

from __future__ import annotations

import pytest

from infraplan.facility.reliability import reliability_report


@pytest.mark.parametrize(("system", "gpus", "used", "free", "device"), [
    ("gb200-nvl72-superpod", 8, 2, 16, "GPU"),
    ("mtia-400-rack", 64, 16, 2, "accelerator"),
])
def test_a_job_inside_one_domain_names_its_servers_not_a_segment(system: str, gpus: int, used: int, free: int,
                                                                  device: str) -> None:
    r = reliability_report(system, gpus, 30)
    line = next(n for n in r.notes if "scale-up domain" in n and "servers" in n)
    assert "--segment" not in line
    assert f"uses {used} of the 18 servers of its 72-{device} scale-up domain, leaving {free} free" in line
    assert "ASSUMPTION: no other job runs on them" in line
    assert f"more than {free} of its servers are in repair" in line


def test_a_job_beyond_one_domain_still_names_its_segment() -> None:
    r = reliability_report("gb200-nvl72-superpod", 512, 30)  # --segment 16 of 18 trays, 2 free a rack
    line = next(n for n in r.notes if "scale-up domain" in n and "servers" in n)
    assert "NeMo's --segment) leaves 2 free in each" in line
