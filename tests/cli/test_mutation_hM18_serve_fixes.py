"""Mutation wave 2 (hM18, session 43) on hU47 / hU49's serving fixes: serve-plan's percentile labels and `--tp
auto`'s 25 % rule at a share just above it."""

from __future__ import annotations

import re

import pytest
from tests.cli.conftest import cli_json

from infraplan.serving.capacity import SLO_PERCENTILES
from infraplan.serving.serve_results import Percentiles


def test_each_slo_percentile_is_judged_on_the_run_percentile_it_names() -> None:
    """--percentile 50 / 90 / 99 read the run's p50 / p90 / p99 (a 90 judged at p50 was hU47's finding's kind)."""
    assert sorted(SLO_PERCENTILES) == [50.0, 90.0, 99.0]
    for percentile, label in SLO_PERCENTILES.items():
        assert label == f"p{percentile:g}" and label in Percentiles.model_fields


def test_tp_auto_takes_a_tp_just_above_a_quarter(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama 3 405B in bf16 (~810 GB of weights) on eight 141 GB H200s: TP 1, 2 and 4 leave no KV cache, TP 8 about
    26 % of the usable memory (≥ 25 %: AUTO_TP_KV_SHARE), so TP 8 meets the rule; it is not 'the largest taken'
    for want of one."""
    args = ["serve", "llama3-405b", "--system", "h200", "--gpus", "8", "--input-len", "1000", "--output-len", "200",
            "--rate", "2", "--requests", "20"]
    d = cli_json(capsys, args)["deployment"]
    why = d["tp_source"]
    shares = {int(t): float(p) for t, p in re.findall(r"TP (\d+) (?:leaves )?(\d+) %", why)}
    assert d["tp"] == 8 and list(shares) == [1, 2, 4, 8], why
    assert 25 <= shares[8] < 30 and max(shares[1], shares[2], shares[4]) < 25
    assert "none does" not in why
