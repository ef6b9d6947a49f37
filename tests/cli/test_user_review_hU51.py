"""A planner's walk through the README (hU, session 51): `reliability`'s counts in text as in every other table.

At 100,000 H100 the table read "expected interruptions 1447.0 (1420.9 unexpected)" beside "100,000" and "12,500
domains", and the Daly note "M = 1824 s" beside "M = 11,134 s" at 16,384 GPUs (`.4g` below 10^4); at 3 M GPUs the
per-day row read "1.42e+03". Each figure is now written as the CLI writes counts (`fmt_num` / `significant_text`:
thousands separated, never in e-notation); the JSON is unchanged.
"""

from __future__ import annotations

import json
import re

from tests.cli.conftest import CliRun

ARGS = ["reliability", "--system", "h100-sxm", "--gpus", "3000000", "--days", "10", "--checkpoint-interval", "30min"]


def test_reliability_counts_carry_thousands_separators(cli: CliRun) -> None:
    code, out, err = cli(ARGS)
    assert code == 0, err
    code, raw, err = cli([*ARGS, "--json"])
    assert code == 0, err
    r = json.loads(raw)
    assert r["expected_interruptions"] > 1000 and r["expected_interruptions_per_day"] > 1000  # the case in question
    assert f"{r['expected_interruptions']:,.1f} ({r['expected_unexpected_interruptions']:,.1f} unexpected)" in out
    assert f"{round(r['expected_interruptions_per_day']):,}" in out
    assert "e+0" not in out  # "1.42e+03" interruptions per day before
    top = max(r["interruptions_by_component"].values())
    assert f"{top:,.1f}" in out  # the component table: "5,018.8", was "5018.8"
    assert not re.search(r"(?<![\d,.])\d{4,}(?:\.\d+)? s\b", out)  # no "1824 s" in the Daly note


def test_daly_note_writes_a_four_digit_mttf_with_its_separator(cli: CliRun) -> None:
    """100,000 H100: job MTTF 1,824 s (30.4 min) in the note's inputs."""
    code, out, err = cli(["reliability", "--system", "h100-sxm", "--gpus", "100000"])
    assert code == 0, err
    note = " ".join(out.split())
    m = re.search(r"M = ([\d,.]+) s \(job MTTF\)", note)
    assert m, note
    assert float(m.group(1).replace(",", "")) > 1000 and "," in m.group(1)
