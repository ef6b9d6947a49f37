"""hN2 (session 71): a scale-up domain over several racks, and small leftovers of hN71 / hK71.

1. `facility` / `campus` / `plan` refused examples/hardware/gb200-nvl144-superpod.yaml: its 144-GPU NVLink domain
   (244.8 kW) was put in one rack, above liquid's 140 kW. A system file now says how many racks one domain spans
   (`node.racks_per_scale_up_domain`, default 1; GB200 NVL36x2 joins 2 racks into one 72-GPU domain): each rack
   holds an equal share of its servers and switches (`cluster.power.rack_fit`), and no cooling spreads a domain
   over racks its file does not declare.
2. `plan --vary h100.price=-50%..+10%` was refused ("expected LOW..HIGH or ±P%"): a range relative to the base
   value may be asymmetric; ±P% is -P%..+P%.
3. `reliability --checkpoint-size` beside `--model` answered (the model said unused) while beside
   `--optimizer muon` it was refused: one rule, the size overrides both.
4. `serve` on a TPU said "W per accelerator" of its host share; `plan` read a pool's `device:` for its figures line,
   not the `system:` it is priced with, and said nothing of a TPU pool's generic node of 8 that fleet-mix names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main as cli_main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning.campus import plan_campus
from infraplan.planning.compare import parse_vary
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import load_scenario
from infraplan.serving.serving_metrics import assumed_host_note

ROOT = Path(__file__).resolve().parents[2]
NVL144 = str(ROOT / "examples" / "hardware" / "gb200-nvl144-superpod.yaml")


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli_main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert cli_main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_the_nvl144_example_is_sized_over_two_racks_a_domain(capsys: pytest.CaptureFixture[str]) -> None:
    """576 GPUs in 4 domains of 144, each over 2 racks of 18 trays and 9 NVSwitch trays: 8 racks of 122.4 kW
    (18 x (4 x 1.2 kW + 1.8 kW) + 3.6 kW), the NVL72 SuperPOD's racks and IT power to the watt (the same trays and
    switch trays, joined differently); the note says each domain spans 2 racks."""
    got, nvl72 = _json(capsys, "facility", "--system", NVL144), _json(capsys, "facility", "--system",
                                                                        "gb200-nvl72-superpod")
    assert (got["racks"], got["servers_per_rack"], got["rack_power_w"]) == (8, 18, pytest.approx(122_400.0))
    assert got["it_power_w"] == pytest.approx(nvl72["it_power_w"])
    fit = got["rack_fit"]
    assert isinstance(fit, dict) and fit["limited_by"] == "scale-up domain"
    assert "spans 2 racks" in str(fit["note"]) and nvl72["rack_fit"]["note"] is None  # type: ignore[index]


def test_a_part_filled_domain_over_two_racks_draws_its_racks_switch_share(capsys: pytest.CaptureFixture[str]) -> None:
    """76 GPUs of the example: 19 trays, one full rack (18 trays, 122.4 kW) and one with 1 tray and that rack's 9
    NVSwitch trays (6.6 + 3.6 = 10.2 kW); the racks' power sums to the GPUs, hosts and switches (7.2 kW: both racks'
    switch trays, not the whole domain's twice)."""
    got = _json(capsys, "facility", "--accelerator", NVL144, "--count", "76")
    rows = [(r["racks"], r["servers_per_rack"], r["rack_power_w"]) for r in got["racks_by_fill"]]  # type: ignore[attr-defined]
    assert rows == [(1, 18, pytest.approx(122_400.0)), (1, 1, pytest.approx(10_200.0))]
    power = got["power_breakdown_w"]
    assert isinstance(power, dict) and power["scale_up_switches"] == pytest.approx(7_200.0)
    assert sum(r[2] for r in rows) == pytest.approx(power["accelerators"] + power["hosts"] + power["scale_up_switches"])


def test_no_cooling_spreads_a_domain_over_racks_its_file_does_not_declare(capsys: pytest.CaptureFixture[str]) -> None:
    """Air (30 kW a rack) refuses the example's 122.4 kW rack share and the NVL72's whole rack alike: the racks a
    domain spans are the file's, never more to fit a cooling type."""
    err = _refused(capsys, "facility", "--system", NVL144, "--cooling", "air")
    assert "over its 2 racks (node.racks_per_scale_up_domain)" in err and "draws 122.4 kW a rack" in err
    err = _refused(capsys, "facility", "--system", "gb200-nvl72-superpod", "--cooling", "air")
    assert "one 72-accelerator scale-up domain of gb200 draws 122.4 kW, above the 30.0 kW" in err


@pytest.mark.parametrize(("node", "named"), [
    ("{racks_per_scale_up_domain: 4}", "must divide the 18 servers of one"),  # 18 trays do not split in 4 equal racks
    ("{racks_per_scale_up_domain: 0}", "greater than or equal to 1"),
])
def test_a_domain_split_into_unequal_racks_is_refused(tmp_path: Path, node: str, named: str) -> None:
    path = tmp_path / "split.yaml"
    path.write_text(f"extends: gb200-nvl72-superpod\nnode: {node}\n")
    with pytest.raises((ValidationError, InputError), match=named.replace("(", r"\(").replace(")", r"\)")):
        load_system(str(path))
    server = tmp_path / "server.yaml"  # a domain of one server (DGX H100): one rack, never two
    server.write_text("extends: dgx-h100-superpod\nnode: {racks_per_scale_up_domain: 2}\n")
    with pytest.raises((ValidationError, InputError), match="must divide the 1 server of one"):
        load_system(str(server))


def _scenario(tmp_path: Path, pool: dict[str, object], power: str = "10MW") -> str:
    """A one-phase recsys scenario (plan-minimal's service) on one pool, as a file: JSON is YAML."""
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps({
        "name": "p", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
        "pools": [{"name": "p", "site": "s", **pool}], "sites": [{"name": "s", "power": power, "location": "ohio"}]}))
    return str(path)


def test_campus_and_plan_take_the_example(tmp_path: Path) -> None:
    """`campus` builds whole 144-GPU domains, 2 racks each (its note counts racks, not domains); `plan` packs a pool
    of the example's system. Both were refused (one domain, 244.8 kW, in one 140 kW rack)."""
    campus = plan_campus(100e6, NVL144)
    assert campus.accelerators % 144 == 0 and campus.facility.racks == campus.accelerators // 72
    assert f"({campus.accelerators // 72:,} racks, each built" in " ".join(campus.notes)
    plan = plan_scenario(_scenario(tmp_path, {"device": "gb200", "system": NVL144}, "20MW"))
    assert sum(p.devices for p in plan.pools) > 0


@pytest.mark.parametrize(("text", "low", "high"), [
    ("h100.price=-50%..+10%", 0.5, 1.1), ("h100.price=-50%..10%", 0.5, 1.1), ("h100.price=+5%..+20%", 1.05, 1.2),
    ("h100.price=±30%", 0.7, 1.3), ("h100.price=-30%..+30%", 0.7, 1.3),
])
def test_vary_takes_an_asymmetric_relative_range(text: str, low: float, high: float) -> None:
    spec = load_scenario(str(ROOT / "examples" / "plan-minimal.yaml"))
    base = parse_vary(spec, "h100.price=±0%")[1]
    name, lo, hi = parse_vary(spec, text)
    assert name == "h100.price" and (lo, hi) == (pytest.approx(low * base), pytest.approx(high * base))


@pytest.mark.parametrize(("text", "named"), [
    ("h100.price=10%..-5%", "LOW <= HIGH"), ("h100.price=-100%..+10%", "a low end above -100 %"),
    ("h100.price=±100%", "less than ±100 %"), ("h100.price=-50%..10", "expected LOW..HIGH, ±P% or -P%..+Q%"),
])
def test_vary_refuses_a_bad_relative_range(text: str, named: str) -> None:
    spec = load_scenario(str(ROOT / "examples" / "plan-minimal.yaml"))
    with pytest.raises(InputError, match=named.replace("+", r"\+").replace("%..", "%\\.\\.")):
        parse_vary(spec, text)


def test_plan_cli_tornado_on_an_asymmetric_range(capsys: pytest.CaptureFixture[str]) -> None:
    got = _json(capsys, "plan", str(ROOT / "examples" / "plan-minimal.yaml"), "--vary", "h100.price=-50%..+10%")
    (row,) = got["tornado"]  # type: ignore[misc]
    assert row["high_value"] == pytest.approx(2.2 * row["low_value"])


def test_a_checkpoint_size_overrides_the_model_and_the_optimizer_alike(capsys: pytest.CaptureFixture[str]) -> None:
    """The same 5 TB checkpoint and goodput whether --model / --optimizer muon are given or not; the answer names
    what it did not use."""
    base = ["reliability", "--system", "meta-rsc", "--gpus", "64", "--checkpoint-size", "5TB"]
    plain = _json(capsys, *base)
    model = _json(capsys, *base, "--model", "llama3-8b")
    muon = _json(capsys, *base, "--model", "llama3-8b", "--optimizer", "muon")
    for got in (model, muon):
        assert (got["checkpoint_bytes"], got["goodput"]) == (plain["checkpoint_bytes"], plain["goodput"])
        assert got["model"] is None and got["optimizer"] is None
    assert muon["checkpoint_size_basis"] == "--checkpoint-size; the model is not used, nor --optimizer muon"


def test_serve_names_the_tpu_in_its_host_share_line() -> None:
    system = Cluster.resolve("tpu-v5p").system
    (line,) = assumed_host_note({"joules_per_token": 1.0}, system, Cluster.resolve("tpu-v5p").accelerator.device_word)
    assert "W per TPU of host" in line and "per accelerator" not in line


def test_plan_says_a_tpu_pools_generic_node_and_reads_a_pools_system(tmp_path: Path) -> None:
    """A TPU pool: the generic node of 8 is named, as fleet-mix names it. A pool of gb200 on a system file stating
    its own sourced host: no "ASSUMED" line of the gb200 catalog node it is not priced with."""
    def plan_of(pool: dict[str, object]) -> str | None:
        return plan_scenario(_scenario(tmp_path, pool)).figures_note

    tpu = plan_of({"device": "tpu-v5p", "price_usd_per_device": 20000})
    assert tpu is not None and "the generic node is ASSUMED: 8 TPUs per node" in tpu
    own = tmp_path / "measured.yaml"
    own.write_text("extends: gb200-nvl72\nnode:\n  host_power_w: 2000W\n  host_power_source: measured at our site\n")
    assert plan_of({"device": "gb200", "system": str(own)}) is None
    assert plan_of({"device": "gb200"}) is None  # its tray host is sourced since hC75 (the tray less its GPUs)
    assert "ASSUMED" in str(plan_of({"device": "mi300x", "price_usd_per_device": 20000}))  # a 3.5 kW server, assumed
