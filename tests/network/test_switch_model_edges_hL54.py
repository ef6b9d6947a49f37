"""A tier's named switch (`NetworkTier.switch_model`, `network.costs.switch_for`; hU54) at its edges (hL, session 54
review: hand mutants of `switch_for` and the schema that hU54's tests let pass, and one bug).

The bug: a catalog model's name with the file's own price and power skipped the fit check, so an 800G RoCE tier's
own switch named `nvidia-qm9700` (a 64 x 400G InfiniBand box) was priced, and `network.sharp.sharp_switches`, which
reads SHARP by the model's name, let `collective --sharp` reduce in the switches of an Ethernet fabric (busbw 397 ->
~540 GB/s on 1,024 GPUs). Now a catalog name must fit the tier whatever figures come with it. The mutants each test
below kills (each passed every test before): the family check dropped; `model.radix < tier.radix` as `<=` (a model
of exactly the tier's radix refused) or dropped; a named catalog model's power not read; the "needs switch_model"
clause of the schema dropped; the price's `ge=0` dropped. Power 0 W was taken (a switch that draws nothing); now
refused as a typo. Checked on the base tree: the qm9700-with-figures, 0 W and --sharp cases fail (exit 0 there);
the family and fewer-ports lines fail on the article only ("cannot be a ethernet switch", now "an")."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.network_price_loader import load_switch_catalog
from infraplan.cli import main

ROCE_400G = """
display_name: the Llama 3 RoCE fabric with its rack tier's switch named (test fixture)
source: a user's what-if (test fixture)
extends: meta-genai-roce-24k
network:
  tiers:
    - {{name: rack, group_size: 16, oversubscription: 1, hop_latency_s: 2.0e-6, switch_radix: {radix},
       port_bandwidth_bytes_per_s: 400Gbps{own}}}
    - {{name: pod, group_size: 3072, oversubscription: 7, hop_latency_s: 5.0e-6, switch_radix: 576,
       port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: cluster, group_size: 24576, oversubscription: 1, hop_latency_s: 1.0e-5, switch_radix: 576,
       port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _file(tmp_path: Path, own: str, radix: int = 64) -> str:
    path = tmp_path / "roce.yaml"
    path.write_text(ROCE_400G.format(own=own, radix=radix), encoding="utf-8")
    return str(path)


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    return err


def test_a_catalog_model_of_exactly_the_tiers_radix_is_its_price_and_power(capsys, tmp_path):
    """minipack2 is 64 x 400G Ethernet: named on the 64-port rack tier it is the catalog's ($25,000, 900 W), as the
    unnamed tier picks it."""
    named = cli_json(capsys, ["network", _file(tmp_path, ", switch_model: minipack2")])
    shipped = cli_json(capsys, ["network", "meta-genai-roce-24k"])
    assert named["tiers"][0]["switch_model"] == "minipack2"
    assert named["capex_usd"] == shipped["capex_usd"] and named["power_w"] == shipped["power_w"]


def test_a_named_chassis_is_priced_with_its_power(capsys, tmp_path):
    """arista-7816r3 (576 x 400G, 16 kW, $1.2 M) named on the 64-port rack tier: 1,536 chassis, ports unused."""
    plain = cli_json(capsys, ["network", "meta-genai-roce-24k"])
    d = cli_json(capsys, ["network", _file(tmp_path, ", switch_model: arista-7816r3")])
    mini, chassis = (load_switch_catalog().models[m] for m in ("minipack2", "arista-7816r3"))
    assert d["capex_usd"] == pytest.approx(plain["capex_usd"] + 1536 * (chassis.price_usd - mini.price_usd))
    assert d["power_w"] == pytest.approx(plain["power_w"] + 1536 * (chassis.power_w - mini.power_w))


@pytest.mark.parametrize(("own", "radix", "words"), [
    # InfiniBand of the tier's speed and radix on an Ethernet tier (the family check)
    (", switch_model: nvidia-qm9700", 64, "nvidia-qm9700 (infiniband, 64 x 400G) cannot be an ethernet switch"),
    # fewer ports than the tier's
    (", switch_model: minipack2", 128, "minipack2 (ethernet, 64 x 400G) cannot be an ethernet switch of 128 x"),
    # a catalog name with the file's own figures must fit as well (was priced, and took --sharp on Ethernet)
    (", switch_model: nvidia-qm9700, switch_price_usd: 20000, switch_power_w: 1kW, switch_source: q", 64,
     "name a switch of your own otherwise"),
    # price and power without a model name
    (", switch_price_usd: 20000, switch_power_w: 1kW, switch_source: q", 64, "missing switch_model"),
    (", switch_model: x, switch_price_usd: -1, switch_power_w: 1kW, switch_source: q", 64, "switch_price_usd"),
    (", switch_model: x, switch_price_usd: 20000, switch_power_w: 0, switch_source: q", 64, "switch_power_w"),
])
def test_a_switch_that_cannot_be_the_tiers_is_one_line(capsys, tmp_path, own, radix, words):
    err = _refused(capsys, ["network", _file(tmp_path, own, radix)])
    assert words in err, err


def test_sharp_is_not_taken_on_ethernet_by_a_catalog_name(capsys, tmp_path):
    path = _file(tmp_path, ", switch_model: nvidia-qm9700, switch_price_usd: 20000, switch_power_w: 1kW, "
                           "switch_source: q")
    err = _refused(capsys, ["collective", "all-reduce", "--system", path, "--gpus", "1024", "--bytes", "1GiB",
                            "--sharp"])
    assert "nvidia-qm9700" in err


def test_a_fitting_catalog_name_with_its_own_figures_is_priced_at_them(capsys, tmp_path):
    """minipack2 at the file's $20,000 and 1 kW: 1,536 rack switches differ from the catalog's by those figures."""
    plain = cli_json(capsys, ["network", "meta-genai-roce-24k"])
    d = cli_json(capsys, ["network", _file(tmp_path, ", switch_model: minipack2, switch_price_usd: 20000, "
                                                     "switch_power_w: 1kW, switch_source: a quote")])
    assert d["tiers"][0]["switch_model"] == "minipack2"
    assert d["capex_usd"] == pytest.approx(plain["capex_usd"] + 1536 * (20000 - 25000))
    assert d["power_w"] == pytest.approx(plain["power_w"] + 1536 * (1000 - 900))
