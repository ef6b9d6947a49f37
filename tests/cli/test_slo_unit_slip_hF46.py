"""A latency SLO written in milliseconds without its unit (`--tpot-slo 50`, `--ttft-slo 2000`) was read as 50 s a
token / 2,000 s to the first token and accepted, so every request met it (hF46). A bare number above the ceiling
(`units.BARE_SLO_CEILING_S`, ASSUMPTION: TTFT 30 s, TPOT 1 s) is refused in one line with the ms reading offered;
the figure with its unit runs as written, on the CLI (serve, serve-plan) and the web alike."""

from __future__ import annotations

import pytest
from tests.cli.conftest import CliRun

from infraplan.units import BARE_SLO_CEILING_S, slo_unit_slip

SERVE = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--rate", "1", "--input-len", "100",
         "--output-len", "10", "--requests", "20", "--json"]
PLAN = ["serve-plan", "llama3-8b", "--system", "h100-sxm", "--rate", "1", "--max-gpus", "2", "--input-len", "100",
        "--output-len", "50", "--requests", "60", "--json"]


@pytest.mark.parametrize(("argv", "flag", "value", "said"), [
    (SERVE, "--tpot-slo", "50", "50 s per output token: did you mean 50ms?"),
    (SERVE, "--ttft-slo", "2000", "2000 s to the first token (an image's end to end): did you mean 2000ms?"),
    (PLAN, "--tpot-slo", "50", "did you mean 50ms?"),
    (PLAN, "--ttft-slo", "500", "did you mean 500ms?"),
])
def test_a_bare_millisecond_figure_is_refused_in_one_line(cli: CliRun, argv: list[str], flag: str, value: str,
                                                         said: str) -> None:
    code, out, err = cli([*argv, flag, value])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"'{flag}'" in err and said in err and f"write {value}s to mean seconds" in err


def test_the_same_figure_with_a_unit_and_a_bare_number_within_the_ceiling_run(cli: CliRun) -> None:
    for flag, value in (("--tpot-slo", "50ms"), ("--tpot-slo", "50s"), ("--ttft-slo", "2000ms"), ("--tpot-slo", "1"),
                        ("--ttft-slo", "30")):
        code, _, err = cli([*SERVE, flag, value])
        assert code == 0, (flag, value, err)


def test_the_ceiling_is_the_boundary() -> None:
    for slo, ceiling in BARE_SLO_CEILING_S.items():
        assert slo_unit_slip(str(ceiling), ceiling, slo) is None and slo_unit_slip(ceiling, ceiling, slo) is None
        above = ceiling * 1.01
        assert slo_unit_slip(str(above), above, slo) is not None and slo_unit_slip(above, above, slo) is not None
        assert slo_unit_slip(f"{above}s", above, slo) is None  # a unit says what is meant
