"""`facility --rack-power` without `--cooling` picks the first of air, liquid and immersion that allows the density
(hN72, `cluster.cost.default_cooling`), and a limit allows its own value: catalog/facility/cooling.yaml gives air
30 kW, direct liquid 140 kW, immersion 200 kW a rack, and `--rack-power 40kW --cooling air` is refused as above
"the 30.0 kW per rack that air cooling allows". So exactly 30 kW is air and exactly 140 kW is liquid (hI73: `>`
flipped to `>=`, or `<=` to `<`, passed the hN72 tests, which asked 25, 40 and 170 kW)."""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main as cli_main


@pytest.mark.parametrize(("rack_power", "cooling"), [("30kW", "air"), ("140kW", "liquid"), ("200kW", "immersion")])
def test_a_density_at_a_coolings_limit_is_that_cooling(capsys: pytest.CaptureFixture[str], rack_power: str,
                                                       cooling: str) -> None:
    capsys.readouterr()
    assert cli_main(["facility", "--system", "meta-genai-roce-24k", "--rack-power", rack_power, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cooling"] == cooling
