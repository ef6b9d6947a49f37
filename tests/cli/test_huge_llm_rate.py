"""A scenario's or fleet's LLM demand above `serve --rate`'s 1e9 requests/s limit (a huge `rate` or `growth`) is one
line, exit 2, not an OverflowError traceback out of the capacity search (helper hC's finding, session 33)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_fleet_mix_llm_rate_above_the_limit_is_one_line(cli, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "fleet-mix.yaml").read_text()
    assert "rate: 50 " in text
    spec = tmp_path / "huge.yaml"
    spec.write_text(text.replace("rate: 50 ", "rate: 1e308 ", 1))
    code, out, err = cli(["fleet-mix", str(spec)])
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "peak LLM rate 1e+308 requests/s" in err and "above the 1e+09 requests/s limit" in err


@pytest.mark.parametrize("growth", ["1e300", "1e9"])
def test_a_plan_whose_growth_takes_an_llm_rate_past_the_limit_is_one_line(cli, tmp_path: Path, growth: str) -> None:
    text = (ROOT / "examples" / "gigawatt-2027.yaml").read_text()
    old = 'rate: 2000, growth: {"2027": 2.0}'
    assert old in text
    spec = tmp_path / "huge.yaml"
    spec.write_text(text.replace(old, f'rate: 2000, growth: {{"2027": {growth}}}'))
    code, out, err = cli(["plan", str(spec)])
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "above the 1e+09 requests/s limit" in err
