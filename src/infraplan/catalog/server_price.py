"""A system file's own server price on its accelerator (`node.server_price_usd`, hC76): its own module, importing
only the schemas, so `cluster.Cluster` applies it without loading the facility price tables (`train --json` never
reads them: tests/cli/test_train_startup_hP1.py)."""

from __future__ import annotations

from infraplan.catalog.schemas import Accelerator, System


def with_server_price(system: System, accelerator: Accelerator) -> Accelerator:
    """`accelerator` priced at its system file's own server price (`node.server_price_usd` / accelerators_per_node,
    its `server_price_source` the part's `price_source`), so `accelerator_price`, the one rule, gives it to every
    command that prices the system (facility, campus, plan, fleet-mix, serve, web: `cluster.Cluster`, `part_of`);
    the part itself where the file states none (every catalog system: their answers unchanged)."""
    node = system.node
    if node.server_price_usd is None:
        return accelerator
    per = node.server_price_usd / node.accelerators_per_node
    return accelerator.model_copy(update={"price_usd": per, "price_source": (
        f"{system.name}'s node.server_price_usd, ${node.server_price_usd:,.0f} a {node.accelerators_per_node}"
        f"-accelerator node: {node.server_price_source}")})
