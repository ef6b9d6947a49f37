from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # sweep_helpers, importable by name in this process and its workers


@pytest.fixture
def slow_spec(tmp_path: Path) -> Path:
    """100 points of the slow toy function, one per task, 0.05 s each: 2.5 s on 2 workers, a part a second."""
    spec = tmp_path / "slow.yaml"
    spec.write_text("function: sweep_helpers:slow_square\nseed: 3\nbatch_size: 1\nfixed: {delay_s: 0.05}\n"
                    "axes:\n  x: {range: {start: 0, stop: 99}}\n")
    return spec


@pytest.fixture
def long_spec(tmp_path: Path) -> Path:
    """1,000 points of the slow toy function, 0.05 s each: 25 s on 2 workers, so a Ctrl-C after the first part
    always lands in the middle, however loaded the machine (the 100-point sweep could finish first)."""
    spec = tmp_path / "long.yaml"
    spec.write_text("function: sweep_helpers:slow_square\nseed: 3\nbatch_size: 1\nfixed: {delay_s: 0.05}\n"
                    "axes:\n  x: {range: {start: 0, stop: 999}}\n")
    return spec
