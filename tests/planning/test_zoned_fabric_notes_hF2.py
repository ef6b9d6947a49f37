"""`network` and `serve` on an accelerator preset beyond one zone say that `facility` builds other fabric (hF2,
session 39).

Beyond one zone (2,048 NIC links, facility/campus_fabric.py) `network ACC --gpus N` builds the one non-blocking
Clos `train` and `serve` price on, while `facility --accelerator ACC --count N`, `campus` and `plan` build zones
joined at 1:7: 4,096 H100 are 320 switches and $31.3 M in `network`, 208 switches and $22.2 M in `facility`. `serve`
prices its $/M tokens on the Clos ($1.337/GPU-h against facility's $1.281). Neither said so; both now carry a note
with facility's figures (`planning.training_run.zoned_network_note` / `serving_fabric_note`, `train --tokens`'s
`zoned_fabric_note`), and every number is as before. (hB66: $24.2 M / $15.0 M and $1.295 / $1.239 until the generic
H100 was built on DGX SuperPOD rail units of 256, leaves in their own racks, the NIC links optical.)
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main


def test_network_beyond_one_zone_gives_facilitys_zoned_fabric(capsys: pytest.CaptureFixture[str]) -> None:
    net = cli_json(capsys, "network h100-sxm --gpus 4096")
    fac = cli_json(capsys, "facility --accelerator h100-sxm --count 4096")
    # its own Clos (hB66: 242, copper NIC links, before the generic H100 was built of rail units)
    assert (net["switches_total"], round(net["capex_usd"] / 1e5)) == (320, 313)
    [note] = net["notes"]
    assert fac["network"]["model"] in note
    assert f"{fac['network']['switches']:,} switches, ${fac['capex_usd']['network'] / 1e6:,.1f} M, " \
           f"{fac['power_breakdown_w']['network'] / 1e3:,.0f} kW of network" in note
    assert "208 switches, $22.2 M" in note and "`facility --accelerator h100-sxm --count 4096`" in note


@pytest.mark.parametrize("line", ["network h100-sxm --gpus 2048", "network dgx-h100-superpod",
                                  "network h100-sxm --gpus 4096 --fabric rail-only"])
def test_network_within_one_zone_or_on_a_system_has_no_note(capsys: pytest.CaptureFixture[str], line: str) -> None:
    assert cli_json(capsys, line)["notes"] == []


def test_network_text_prints_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["network", "h100-sxm", "--gpus", "4096"]) == 0
    assert "note: one non-blocking Clos of 4,096 h100-sxm" in capsys.readouterr().out


SERVE = "serve llama3-70b --system h100-sxm --tp 8 --dtype fp8 --workload chat --rate 20 --requests 400"


def test_serve_beyond_one_zone_says_its_price_is_the_clos(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, f"{SERVE} --gpus 4096")
    fac = cli_json(capsys, "facility --accelerator h100-sxm --count 4096")
    notes = [w for w in out["warnings"] if "non-blocking Clos" in w]
    assert len(notes) == 1
    assert f"${out['usd_per_hour_per_gpu']:,.3f}/GPU-h" in notes[0]
    assert "$1.337/GPU-h" in notes[0] and f"(${fac['usd_per_gpu_hour']:,.3f}/GPU-h" in notes[0]
    assert "its $/M tokens are priced on" in notes[0]


@pytest.mark.parametrize("extra", ["--gpus 2048", "--gpus 4096 --usd-per-hour 2"])
def test_serve_within_one_zone_or_at_a_given_price_has_no_note(capsys: pytest.CaptureFixture[str],
                                                                 extra: str) -> None:
    assert not [w for w in cli_json(capsys, f"{SERVE} {extra}")["warnings"] if "non-blocking Clos" in w]
