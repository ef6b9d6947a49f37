"""Error-band lines wrap between words, never between a number and its unit (hC52; hW51's "Left": the metric tables
held their units, the printed band lines did not: `collective` at 42 columns printed "... measured likely 58.5" /
"GB/s to 208 GB/s"). `_output.print_band` prints them as a metric table's cell wraps (`HELD_SPACES`)."""

from __future__ import annotations

import re

import pytest

from infraplan.cli.commands._output import print_band
from infraplan.cli.main import main

UNIT_FIRST = re.compile(r"(%|[kMGTP]?i?B(/s)?\b|[kMGT]?W\b|ms\b|µs\b|s\b|min\b|h\b|days\b|tokens/s)")


def _broken(lines: list[str]) -> list[tuple[str, str]]:
    """Each pair of lines where the first ends in a number and the second starts with a unit."""
    return [(a, b) for a, b in zip(lines, lines[1:], strict=False)
            if re.search(r"\d$", a.rstrip()) and UNIT_FIRST.match(b.lstrip())]


@pytest.mark.parametrize("width", range(40, 100, 3))
def test_a_band_line_keeps_each_number_with_its_unit(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    line = ("error band: -12.5 % to +211.0 % (predicted / measured busbw - 1; 168 residuals of 4 campaigns): measured "
            "likely 58.5 GB/s to 208 GB/s, TPOT p50 9.45 ms to 11.7 ms, 1.2 MW of 3 kW racks")
    print_band(line)
    lines = capsys.readouterr().out.splitlines()
    assert " ".join(s.strip() for s in lines) == line and not _broken(lines), lines
    assert all(len(s) <= width for s in lines)


def _band_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int,
                argv: list[str]) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    return out[next(i for i, s in enumerate(out) if s.startswith("error band")):]


def test_collective_band_lines_at_every_width_40_to_120(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: broken at 23 of these widths (42: "measured likely 58.5" / "GB/s to 208 GB/s"; 45: "64 KiB to 512" /
    "MiB"; 47: "a message under 1" / "GiB")."""
    argv = ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "8", "--bytes", "4MiB"]
    for width in range(40, 121):
        band = _band_lines(capsys, monkeypatch, width, argv)
        assert len(band) > 1 and not _broken(band), (width, band)


@pytest.mark.parametrize("width", [40, 49, 77, 108])
def test_serve_band_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """Before: "... - 1; 80" / "% conformal" at 40 columns, "... ms to 572" / "ms" at 49 (15 of the widths 40-120)."""
    argv = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--workload", "chat", "--rate", "5",
            "--requests", "200"]
    band = _band_lines(capsys, monkeypatch, width, argv)
    assert len(band) > 1 and not _broken(band), band
