"""`train` and `network` give one answer on a fabric (hF71).

A system file whose switches are described (every tier's `switch_radix`) but whose fabric does not build was priced
by `train` (and `search`, `serve`, `collective`: `Fabric.from_system` -> `tier_bandwidth.built_or_none`) on the
configured tier ratios, while `network` refused it: a DGX B200 copy at leaf `switch_radix: 3` (256 one-port leaves,
disconnected at its 256 GPUs) gave the catalog's 1.442 s. Now it is refused with `network`'s line (since hF2,
session 71, the copy wired unrailed: the railed one's spine is split by rail and builds connected); a file that
describes no switches (no `switch_radix`) keeps the configured-ratio path. Where such a fabric is built connected
(the same copy at 16 or 64 GPUs: one-port leaves, every inter-node message over leaf + spine + leaf), the analytical
model prices the spine's round trip, as the flow model does on the built topology.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.ring_latency import ring_latency_one
from infraplan.network.topology import build_topology
from infraplan.training import estimate_training

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = ROOT / "src" / "infraplan" / "catalog" / "systems"
LEAF = "{name: leaf, group_size: 256, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64"
TRAIN = ["llama3-8b", "--gpus", "16", "--tp", "8", "--seq-len", "4096", "--global-batch", "64"]


def _b200(tmp_path: Path, radix: int | None, total: int = 256, railed: bool = True) -> Path:
    text = (SYSTEMS / "dgx-b200.yaml").read_text()
    assert LEAF in text and "total_accelerators: 256" in text and "rail_optimized: true" in text
    if not railed:  # hF2 (session 71): the railed copy's spine is split by rail and builds connected
        text = text.replace("rail_optimized: true", "rail_optimized: false")
    if radix is None:  # no tier describes its switches
        text = re.sub(r", switch_radix: \d+", "", text)
    else:
        text = text.replace(LEAF, LEAF.replace("switch_radix: 64", f"switch_radix: {radix}"))
    path = tmp_path / f"b200-r{radix}-{total}-{railed}.yaml"
    path.write_text(text.replace("total_accelerators: 256", f"total_accelerators: {total}"))
    return path


def _err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command", [["train", *TRAIN], ["search", "llama3-8b", "--gpus", "16", "--seq-len", "4096",
                                                          "--global-batch", "64", "--top", "1"],
                                     ["collective", "all-reduce", "--gpus", "16", "--bytes", "1MiB"]])
def test_a_fabric_network_refuses_is_refused_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           command: list[str]) -> None:
    path = str(_b200(tmp_path, 3, railed=False))
    said = _err(capsys, ["network", path])
    assert "switch_radix >= 8 " in said
    argv = [command[0], *command[1:2], "--system", path, *command[2:]] if command[0] != "train" else \
        ["train", TRAIN[0], "--system", path, *TRAIN[1:]]
    if command[0] == "search":
        argv = ["search", "llama3-8b", "--system", path, *command[2:]]
    assert _err(capsys, argv) == said


def test_the_api_raises_the_builder_line(tmp_path: Path) -> None:
    path = str(_b200(tmp_path, 3, railed=False))
    with pytest.raises(InputError) as built:
        build_topology(load_system(path))
    with pytest.raises(InputError) as trained:
        estimate_training("llama3-8b", path, 16, tp=8, seq_len=4096, global_batch=64)
    assert str(trained.value) == str(built.value)


def test_a_file_without_switch_radix_keeps_the_configured_ratios(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_b200(tmp_path, None))
    assert "has no switch_radix" in _err(capsys, ["network", path])
    own = estimate_training("llama3-8b", path, 16, tp=8, seq_len=4096, global_batch=64).step_time_s
    catalog = estimate_training("llama3-8b", "dgx-b200", 16, tp=8, seq_len=4096, global_batch=64).step_time_s
    assert own == pytest.approx(catalog, rel=1e-12)


def _system_files() -> list[Path]:
    found = [*SYSTEMS.glob("*.yaml"), *(ROOT / "examples").rglob("*.yaml"), *(ROOT / "validation").rglob("*.yaml")]
    return sorted(p for p in found if re.search(r"^(network|total_accelerators):", p.read_text(), re.M))


def test_every_shipped_system_file_prices_a_fabric() -> None:
    """Every system file under the catalog, examples/ and validation/ builds (or describes no switches): none is
    refused by the training path. The out-of-sample probes that did not build were changed (hF71): Leonardo at
    800 GPUs, MareNostrum 5 at 2,048, the NeoX cluster without switch_radix."""
    files = _system_files()
    names = {p.name for p in files}
    assert {"dgx-b200.yaml", "leonardo-booster.yaml", "marenostrum5-acc.yaml", "neox-cluster.yaml"} <= names
    for path in files:
        try:
            system = load_system(str(path))
        except InputError:  # not a system file on its own (a part's what-if), or an `extends` of a part
            continue
        cluster = Cluster.resolve(str(path))
        assert cluster.fabric.tier_sizes, path
        if all(t.switch_radix is not None for t in system.network.tiers):
            build_topology(system)  # no InputError


@pytest.mark.parametrize("total", [16, 64])
def test_a_connected_one_port_leaf_fabric_prices_the_spine_round_trip(tmp_path: Path, total: int) -> None:
    """Radix 3 at 1:1: one down port a leaf, 8 rails x 2 (16 GPUs) or 8 (64) leaves, so no two nodes share a leaf:
    a DP pair across 2 nodes pays leaf + spine + leaf (2 x 2 us), not the catalog's one leaf (2 x 1 us); the
    analytical time equals the flow model's on the built topology (one answer with `collective --sim flow`)."""
    path = str(_b200(tmp_path, 3, total))
    fabric = Cluster.resolve(path).placed(16).fabric
    catalog = Cluster.resolve("dgx-b200").placed(16).fabric
    assert fabric.tier_sizes[0] == 8 and catalog.tier_sizes[0] == 256
    assert ring_latency_one(fabric, 2.0, 8.0, 0.0, True) == pytest.approx(4e-6)
    assert ring_latency_one(catalog, 2.0, 8.0, 0.0, True) == pytest.approx(2e-6)
    analytical = estimate_collective("all-reduce", Cluster.resolve(path), 16, 65536, algorithm="ring")
    flow = estimate_collective("all-reduce", Cluster.resolve(path), 16, 65536, algorithm="ring", sim="flow")
    assert analytical.alpha_beta_time_s == pytest.approx(flow.time_s, rel=1e-9)
    one_leaf = estimate_collective("all-reduce", Cluster.resolve("dgx-b200"), 16, 65536, algorithm="ring")
    assert analytical.alpha_beta_time_s > one_leaf.alpha_beta_time_s + 5e-6


def test_the_railed_one_port_leaf_copy_builds_and_trains_at_full_size(tmp_path: Path) -> None:
    """hF2 (session 71): the railed radix-3 copy at its 256 GPUs (refused before: its spine was split by leaf index)
    has one spine plane a rail; train prices it (no refusal) and a 256-GPU all-reduce is one answer analytical vs
    flow on the built topology."""
    path = str(_b200(tmp_path, 3))
    topo = build_topology(load_system(path))
    assert (topo.tiers[1].planes, topo.tiers[1].lowers_per_plane) == (8, 32)
    assert estimate_training("llama3-8b", path, 16, tp=8, seq_len=4096, global_batch=64).step_time_s > 0
    analytical = estimate_collective("all-reduce", Cluster.resolve(path), 256, 1 << 28, algorithm="ring")
    flow = estimate_collective("all-reduce", Cluster.resolve(path), 256, 1 << 28, algorithm="ring", sim="flow")
    assert analytical.alpha_beta_time_s == pytest.approx(flow.time_s, rel=1e-6)
