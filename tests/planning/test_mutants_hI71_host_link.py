"""Mutation wave on the host-link default in `plan` / `fleet-mix` pool notes (hI, session 71): a pool's note names
its part's host link where that figure is an ASSUMPTION, saying whose: the part file's own labelled figure (MTIA
400's `host_link_source`: "ASSUMPTION [U]: ... PCIe Gen5 x16") or the default a file without one is priced at
(`catalog.schemas.DEFAULT_HOST_LINK_BYTES_PER_S`, 64 GB/s: PCIe 5.0 x16). The mutant ids are hI71's NOTE's."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import WHAT_IF_PART

from infraplan.planning.device_money import pool_generic_note


def test_a_labelled_host_link_is_named_with_its_own_source(tmp_path: Path) -> None:
    """hI71 HL5 / HL6: MTIA 400's stated 64 GB/s, labelled ASSUMPTION, is "(host_link_source)"; a what-if file
    without one is "(the default: its file states none)"; a sourced H100 datasheet figure is not named."""
    mtia = pool_generic_note("p", "mtia-400", None) or ""
    assert "host link 64 GB/s (host_link_source)" in mtia
    part = tmp_path / "x1.yaml"
    part.write_text(WHAT_IF_PART)
    assert pool_generic_note("p", str(part), None) == (
        "pool 'p': x1's host link 64 GB/s (the default: its file states none) is an ASSUMPTION of its file")
    assert pool_generic_note("p", "h100-sxm", None) is None
