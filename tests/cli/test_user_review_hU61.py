"""A ranking model's batch-latency SLO written in milliseconds without its unit (`recsys --latency-slo 20`) was read
as 20 s and met by the largest batch (4,096 on MTIA v2, 30.7 s a batch: "SLO 20 s: met"), where `serve` and
`serve-plan` refuse the same slip (hF46). A bare number above `units.BARE_SLO_CEILING_S['recsys']` (ASSUMPTION:
0.5 s, five times the loosest shipped ranking SLO: the MTIA 2i paper's 100 ms budget,
validation/cases/silicon.yaml) is refused in one line with the ms reading offered, on the CLI and the web (hU61)."""

from __future__ import annotations

import json

import pytest
from tests.cli.conftest import CliRun

from infraplan.units import BARE_SLO_CEILING_S

RECSYS = ["recsys", "dlrm-high", "--accelerator", "mtia-v2", "--json"]


def test_a_bare_millisecond_ranking_slo_is_refused_in_one_line(cli: CliRun) -> None:
    code, out, err = cli([*RECSYS, "--latency-slo", "20"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "'--latency-slo'" in err and "did you mean 20ms?" in err and "write 20s to mean seconds" in err


@pytest.mark.parametrize("value", ["20ms", "0.02", "20s", "0.5"])
def test_a_figure_with_its_unit_or_within_the_ceiling_runs_as_written(cli: CliRun, value: str) -> None:
    code, out, err = cli([*RECSYS, "--latency-slo", value])
    assert code == 0, err
    seconds = {"20ms": 0.02, "0.02": 0.02, "20s": 20.0, "0.5": 0.5}[value]
    assert json.loads(out)["latency_slo_s"] == pytest.approx(seconds)


def test_the_recsys_ceiling_sits_above_every_shipped_ranking_slo() -> None:
    # the loosest shipped ranking SLO is the MTIA 2i paper's 100 ms batch budget; the rule is five times it
    assert BARE_SLO_CEILING_S["recsys"] >= 5 * 0.100
