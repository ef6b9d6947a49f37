"""hV77 (hW77's walk): `recsys --latency-slo 1ns` was "cannot read duration" while `1e-9` was taken: the one
duration reader (`units.parse_duration_s`, every --*-slo, deadline, repair time) takes ns, us, µs (micro sign) and
μs (Greek mu)."""

from __future__ import annotations

import pytest

from infraplan.cli.main import main
from infraplan.units import parse_duration_s


@pytest.mark.parametrize(("text", "seconds"), [("1ns", 1e-9), ("250 ns", 2.5e-7), ("20us", 2e-5),
                                               ("20\u00b5s", 2e-5), ("20\u03bcs", 2e-5), ("1e-9", 1e-9)])
def test_small_durations_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds, rel=1e-12)


def test_an_unknown_unit_is_still_refused() -> None:
    with pytest.raises(ValueError, match="cannot read duration '1ps'"):
        parse_duration_s("1ps")


def test_recsys_takes_a_latency_slo_in_ns(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["recsys", "dlrm-medium", "--accelerator", "mtia-v1", "--json", "--latency-slo"]
    assert main([*args, "1ns"]) == 0
    in_ns = capsys.readouterr().out
    assert main([*args, "1e-9"]) == 0
    assert in_ns == capsys.readouterr().out  # one answer, either spelling
