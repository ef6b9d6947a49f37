"""`--vary` cuts a long parameter name in its error line as it cuts a long range (hR51, session 47): hX50 cut the
range (`shown_path`) but an unknown 5,000-character name was still echoed whole (a 5,103-character line), and so was
a name before a ±P% of 100 % or more."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.planning.compare import parse_vary
from infraplan.planning.scenario_spec import load_scenario

SPEC = load_scenario("examples/plan-minimal.yaml")


@pytest.mark.parametrize(("text", "why"), [("x" * 5000 + "=1..2", "unknown parameter"),
                                           ("sites." + "a" * 5000 + ".power=1MW..2MW", "unknown parameter"),
                                           ("x" * 5000 + "=±150%", "takes the low end to zero"),
                                           ("x" * 5000 + "=±10%", "unknown parameter")])
def test_a_long_vary_name_is_cut_in_its_line(text: str, why: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_vary(SPEC, text)
    line = str(exc.value)
    assert why in line and "\n" not in line and len(line) < 600 and "(5,0" in line  # the name's length said


def test_a_short_unknown_name_is_quoted_whole() -> None:
    with pytest.raises(InputError, match=r"--vary: unknown parameter 'electricty'; known: "):
        parse_vary(SPEC, "electricty=0.05/kWh..0.1/kWh")
