"""`--failed-links TIER:P%` is always a fraction (hQ2, session 36): 100% used to read as 1.0 and then as a count of
one link, so `leaf:100%` failed one uplink and answered as if the fabric were nearly whole."""

from __future__ import annotations

import pytest
from flow_toy_fabric import TINY

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.routing import parse_failed_links

GIB = 2.0**30


@pytest.fixture()
def tiny(tmp_path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return str(path)


def test_a_percentage_is_a_fraction_and_a_plain_one_a_count() -> None:
    assert parse_failed_links("leaf:100%") == ("leaf", 1.0, True)
    assert parse_failed_links("leaf:1") == ("leaf", 1.0, False)
    assert parse_failed_links("leaf:0.5") == ("leaf", 0.5, True)
    with pytest.raises(InputError, match="at most 100%"):
        parse_failed_links("leaf:101%")


def test_half_fails_two_of_the_four_leaf_uplinks(tiny: str) -> None:
    failed = estimate_collective("send-recv", Cluster.resolve(tiny), 32, GIB, sim="flow", failed_links="leaf:50%",
                                 seed=1)
    assert any("2 of the 4 leaf uplinks failed" in a for a in failed.assumptions)


@pytest.mark.parametrize("amount", ["100%", "101%"])
def test_every_uplink_failed_is_one_line_and_exit_2(tiny: str, amount: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["collective", "send-recv", "--system", tiny, "--gpus", "32", "--bytes", "1GiB", "--sim", "flow",
                 "--failed-links", f"leaf:{amount}", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
