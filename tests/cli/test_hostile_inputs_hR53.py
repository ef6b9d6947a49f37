"""Hostile inputs to session 53's new options and file fields (hR, session 53): each is one line and exit 2 now.

Before (checked on the tree before this change): a system file's `node.server_rack_units: 100` (or 43) gave "1
servers of 100U fit a 42U rack" and priced the site, exit 0; the same field on an NVL72 system (a scale-up domain
fills its rack: `cluster.power.rack_fit` never reads the height there) was ignored without a word; `campus --reserve
0.9999999` said "less its 100% reserve" (`.0%`), a reserve it refuses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, cli_json

HEIGHT = """extends: hgx-h200
node:
  server_rack_units: {units}
  server_rack_units_source: a user's rack drawing
"""


def _system(tmp_path: Path, units: int, base: str = "hgx-h200") -> str:
    path = tmp_path / f"u{units}-{base}.yaml"
    path.write_text(HEIGHT.format(units=units).replace("hgx-h200", base), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("units", [43, 100])
def test_a_server_taller_than_the_rack_is_refused(tmp_path: Path, cli: CliRun, units: int) -> None:
    code, out, err = cli(["facility", "--system", _system(tmp_path, units)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"node.server_rack_units: a {units}U server does not fit a 42U rack" in err  # (hM56: refused at load)


def test_a_rack_high_server_fills_its_rack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """42U: one server a rack, space-bound (the note says "1 server", not "1 servers")."""
    answer = cli_json(capsys, ["facility", "--system", _system(tmp_path, 42)])
    fit = answer["rack_fit"]
    assert (fit["server_height_u"], fit["servers_per_rack_by_space"], fit["limited_by"]) == (42, 1, "space")
    assert re.search(r"\b1 server of 42U fit", fit["note"])


def test_a_server_height_on_a_domain_rack_is_refused(tmp_path: Path, cli: CliRun) -> None:
    code, out, err = cli(["facility", "--system", _system(tmp_path, 4, "gb200-nvl72")])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "72-accelerator scale-up domain fills its own rack" in err


def test_a_reserve_just_below_1_says_what_is_left(cli: CliRun) -> None:
    code, out, err = cli(["campus", "--power", "1GW", "--accelerator", "gb200", "--reserve", "0.9999999"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "less its 0.9999999 reserve (100 W) is below one 72-accelerator unit" in err


def test_the_unbuilt_power_is_the_budget_less_the_built_facility(capsys: pytest.CaptureFixture[str],
                                                                  cli: CliRun) -> None:
    """`unbuilt_power_w` is what is not built (the reserve and what whole domains leave), not the reserve alone; the
    text names the reserve kept."""
    kept = cli_json(capsys, "campus --power 1.2GW --accelerator gb200 --reserve 0.3")
    assert kept["unbuilt_power_w"] == kept["power_w"] - kept["facility"]["facility_power_w"]
    assert kept["unbuilt_power_w"] > 0.3 * 1.2e9  # (whole NVL72 racks leave a little more)
    code, out, _ = cli(["campus", "--power", "1.2GW", "--accelerator", "gb200", "--reserve", "0.3"])
    assert code == 0 and "--reserve 0.3 kept for redundancy" in re.sub(r"[\s│]+", " ", out)


def test_a_fleet_takes_no_reserve(cli: CliRun) -> None:
    code, out, err = cli(["campus", "--fleet", "meta-2024", "--reserve", "0.2"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--fleet replaces --power, --accelerator and --reserve" in err
