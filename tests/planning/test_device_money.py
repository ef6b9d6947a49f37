"""The one cost model's per-pool helpers (`planning.device_money`, `planning.pool_money.pool_note`): a pool's
layout, why it is unpriced, its inherited-price note and the device count a price is quoted at."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.planning.device_money import device_layout, missing_price, pool_price_note, reference_devices
from infraplan.planning.pool_money import pool_note
from infraplan.planning.scenario_spec import PoolSpec


@pytest.fixture()
def what_if(tmp_path: Path) -> str:
    path = tmp_path / "h100-hot.yaml"
    path.write_text("extends: h100-sxm\ntdp_w: 900W\n")
    return str(path)


def test_device_layout_takes_a_systems_own_fabric_up_to_its_size() -> None:
    size = load_system("dgx-h100-superpod").total_accelerators
    own = device_layout("dgx-h100-superpod", size)
    assert not own.generic and own.system.name == "dgx-h100-superpod"
    assert device_layout("dgx-h100-superpod", size // 2) is own  # its own tiers for the count it holds (hP73)
    other = device_layout("dgx-h100-superpod", size + 8)  # past its size: its node on the generic fabric
    assert other.generic and other.system.node == own.system.node
    assert device_layout("h100-sxm").generic  # an accelerator: the generic node and Clos
    assert device_layout("msvp").accelerator.name == Cluster.resolve("xeon-8480").accelerator.name  # a CPU host


def test_device_layout_replaces_the_host_share_per_device() -> None:
    base = device_layout("h100-sxm")
    assert base.host_power_w / base.accelerators_per_server == pytest.approx(575.0)  # DGX H100's node
    mine = device_layout("h100-sxm", host_power_w=300.0)
    assert mine.host_power_w / mine.accelerators_per_server == pytest.approx(300.0)
    assert mine.accelerators_per_server == base.accelerators_per_server


def test_missing_price_says_why_a_pool_is_unpriced(what_if: str) -> None:
    assert missing_price("p", "h100-sxm", None) is None  # the catalog's price
    assert missing_price("p", what_if, None) is None  # its preset's, inherited
    assert missing_price("p", "tpu-v5p", 5000.0) is None  # a price_usd_per_device prices anything
    assert missing_price("p", "tpu-v5p", None) == ("pool 'p': the catalog has no price for tpu-v5p; give "
                                                   "price_usd_per_device")
    assert missing_price("v", "msvp", None) == "pool 'v': msvp has no catalog price; give price_usd_per_device"


def test_pool_price_note_only_for_an_inherited_price(what_if: str) -> None:
    note = pool_price_note("p", what_if, None)
    assert note is not None and note.startswith("pool 'p': price of h100-sxm inherited by the what-if h100-hot")
    assert pool_price_note("p", what_if, 30000.0) is None  # priced by the pool
    assert pool_price_note("p", "h100-sxm", None) is None  # the catalog's own entry
    assert pool_price_note("p", "msvp", None) is None
    pool = PoolSpec(name="p", device=what_if, site="s")
    assert pool_note(pool) == note  # plan's pool note is fleet-mix's
    assert pool_note(PoolSpec(name="p", device=what_if, site="s", price_usd_per_device=1.0)) is None


def test_reference_devices_is_what_facility_prices() -> None:
    assert reference_devices("msvp") == 1
    assert reference_devices("h100-sxm") == 8  # an accelerator: one generic node of 8
    assert reference_devices("dgx-h100-superpod") == load_system("dgx-h100-superpod").total_accelerators
