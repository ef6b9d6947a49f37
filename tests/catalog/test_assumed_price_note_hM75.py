"""hM75 mutants of `catalog.hardware_costs.assumed_price_note` (hC75): the line names the ASSUMPTION's first
clause (up to its first ';'), and only for a labelled price."""

from __future__ import annotations

from types import SimpleNamespace

from infraplan.catalog.hardware_costs import assumed_price_note


def test_the_note_takes_the_assumptions_first_clause() -> None:
    entry = SimpleNamespace(source="ASSUMPTION: priced as a Y server; no published X server price found.",
                            server_usd_per_accelerator=42_000.0)
    note = assumed_price_note("x1", entry)  # type: ignore[arg-type]
    assert note is not None and note.startswith("x1's server price, $42,000 per accelerator, is ASSUMED")
    assert "(hardware_costs.yaml: priced as a Y server)" in note and "no published" not in note


def test_a_sourced_or_unpriced_entry_says_nothing() -> None:
    sourced = SimpleNamespace(source="Vendor list price, 2025", server_usd_per_accelerator=30_000.0)
    unpriced = SimpleNamespace(source="ASSUMPTION: none found", server_usd_per_accelerator=None)
    assert assumed_price_note("x1", sourced) is None  # type: ignore[arg-type]
    assert assumed_price_note("x1", unpriced) is None  # type: ignore[arg-type]
