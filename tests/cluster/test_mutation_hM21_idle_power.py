"""Mutation wave hM21 (session 44): the idle figure's words (`cluster.power.IdlePower.basis`, hW45).

Hand figures: B200's file gives a 1,000 W TDP and no idle figure, so the default rule's 10 % is 100 W; GB200's
1,200 W gives 120 W. The sentence every answer's power assumption carries states them as written, not rounded to
two digits (1e+02 W).
"""

from __future__ import annotations

from infraplan.catalog import load_accelerator
from infraplan.cluster.power import idle_power


def test_a_three_digit_idle_figure_is_written_whole() -> None:
    for part, watts in (("b200", 100), ("gb200", 120)):
        idle = idle_power(load_accelerator(part))
        assert idle.rule == "default" and idle.watts == watts
        assert idle.basis.startswith(f"idle {watts} W (ASSUMPTION: 10% of the ")
        assert "e+" not in idle.basis
