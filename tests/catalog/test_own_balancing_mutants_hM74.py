"""Mutation test on hN74's `catalog.loader.own_balancing` (hM74): a file that changes the fabric's kind and states
its own `load_balancing` (with a source) keeps what it states; only a kind change stated without one takes the
kind's default."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.loader import load_system


def test_a_restated_kind_with_its_own_balancing_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "roce-adaptive.yaml"
    path.write_text("extends: meta-genai-ib-24k\nnetwork: {kind: roce, load_balancing: adaptive, "
                    "load_balancing_source: 'Spectrum-X adaptive routing (test)'}\n")
    network = load_system(str(path)).network
    assert (network.kind, network.load_balancing, network.balancing) == ("roce", "adaptive", "adaptive")
    assert network.load_balancing_source == "Spectrum-X adaptive routing (test)"
