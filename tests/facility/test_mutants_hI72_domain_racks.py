"""hI72 mutation wave on hN2's scale-up domain over several racks (`node.racks_per_scale_up_domain`).

- The NVL144 example (2 racks a 144-GPU domain, 18 trays each: 18 x (4 x 1.2 kW + 1.8 kW) + 3.6 kW = 122.4 kW a
  rack) says a rack's share in its note, and its air refusal does not tell the user to declare what its file
  already declares (the NVL36x2 hint is for a one-rack domain, the NVL72's).
- A 2-server DGX H100 domain declared over 2 racks holds one server a rack (the domain's share), never packs racks
  by power or space as a lone server would: 16,384 GPUs are 2,048 servers in 2,048 racks of 10.2 kW (the DGX H100's
  system maximum); a refusal names the domain, not "one server".
- A domain smaller than a server (4 of a DGX's 8 GPUs) is one server, which no 2 racks share equally.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infraplan.catalog.loader import load_system
from infraplan.errors import InputError
from infraplan.facility import size_facility

ROOT = Path(__file__).resolve().parents[2]
NVL144 = str(ROOT / "examples" / "hardware" / "gb200-nvl144-superpod.yaml")
HINT = "says so in its system file"


def _system(tmp_path: Path, node: str) -> str:
    path = tmp_path / "split.yaml"
    path.write_text(f"extends: dgx-h100-superpod\nnode: {node}\n")
    return str(path)


def test_the_note_counts_a_racks_share() -> None:
    fit = size_facility(system=NVL144).rack_fit
    assert fit is not None and fit.note is not None
    assert "18 servers and 1/2 of the domain's scale-up switches a rack, 122.4 kW" in fit.note


def test_a_declared_split_is_not_told_to_declare_it() -> None:
    with pytest.raises(InputError) as split:
        size_facility(system=NVL144, cooling="air")
    assert "over its 2 racks" in str(split.value) and HINT not in str(split.value)
    with pytest.raises(InputError) as whole:
        size_facility(system="gb200-nvl72-superpod", cooling="air")
    assert HINT in str(whole.value)


def test_a_two_server_domain_over_two_racks_holds_one_server_a_rack(tmp_path: Path) -> None:
    system = _system(tmp_path, "{scale_up_domain: 16, racks_per_scale_up_domain: 2}")
    got = size_facility(system=system)
    fit = got.rack_fit
    assert fit is not None and (fit.limited_by, fit.servers_per_rack) == ("scale-up domain", 1)
    assert (got.accelerators, got.racks) == (16_384, 2_048)
    assert fit.rack_power_w == pytest.approx(10_200.0)
    with pytest.raises(InputError, match="one 16-accelerator scale-up domain of h100-sxm over its 2 racks"):
        size_facility(system=system, rack_power_w=5_000.0)


def test_a_domain_within_one_server_spans_no_two_racks(tmp_path: Path) -> None:
    with pytest.raises((ValidationError, InputError), match="must divide the 1 server of one scale-up domain"):
        load_system(_system(tmp_path, "{scale_up_domain: 4, racks_per_scale_up_domain: 2}"))


def test_one_server_a_rack_is_said_in_the_singular(tmp_path: Path) -> None:
    """hI72 found: the note read "1 servers and 1/2 of the domain's scale-up switches a rack" (`units.counted`)."""
    fit = size_facility(system=_system(tmp_path, "{scale_up_domain: 16, racks_per_scale_up_domain: 2}")).rack_fit
    assert fit is not None and fit.note is not None
    assert ": 1 server and 1/2 of the domain's scale-up switches a rack, 10.2 kW" in fit.note
