"""`campus --phases` names each phase's capex, and says where it is not priced (hE59).

Before, a GB300 campus (no catalog server price) printed "2026: +300 MW peak, +240 MW average (128,448
accelerators, -; cumulative 30 %)": a bare "-" for the money, and the priced line "$11 B" without the word capex.
"""

from __future__ import annotations

import pytest

from infraplan.cli import main


def _phase_lines(capsys: pytest.CaptureFixture[str], part: str) -> list[str]:
    assert main(["campus", "--power", "100MW", "--accelerator", part, "--phases", "2026:0.3,2027:0.7"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    return [text[text.index(f"{y}: +"):].split(")")[0] for y in (2026, 2027)]


def test_unpriced_phase_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    for line in _phase_lines(capsys, "gb300"):
        assert "accelerators, capex not priced; cumulative" in line, line


def test_priced_phase_names_its_capex(capsys: pytest.CaptureFixture[str]) -> None:
    for line in _phase_lines(capsys, "gb200"):
        assert "accelerators, capex $" in line, line
