"""A legitimate file with many small aliases is not an alias bomb (hR72, session 49 review of hH70's check).

A fleet-style file: one 4-key defaults mapping (&d) merged into 5,000 entries. Hand count of the composed nodes,
every alias expanded: the defaults mapping is 1 + 4 keys + 4 values = 9 nodes; an entry {<<: *d, name: gi} is
1 + ('<<' + the 9 of *d) + ('name' + 'gi') = 13; the root is 1 + ('defaults' + 9) + 5,000 x ('gi' + 13) = 70,011.
"""

from __future__ import annotations

import pytest
import yaml

from infraplan import limits
from infraplan.catalog.yaml_text import AliasExpansionError, safe_load_yaml

ENTRIES = 5_000
TEXT = ("defaults: &d {power_w: 700, memory: 80GiB, tdp_w: 1000, nics: 8}\n"
        + "".join(f"g{i}: {{<<: *d, name: g{i}}}\n" for i in range(ENTRIES)))
HAND_NODES = 1 + (1 + 9) + ENTRIES * (1 + 13)


def test_many_small_merge_aliases_load_as_pyyaml_does() -> None:
    assert HAND_NODES == 70_011 < limits.MAX_YAML_EXPANDED_NODES
    loaded = safe_load_yaml(TEXT)
    assert loaded == yaml.safe_load(TEXT)
    assert loaded["g4999"] == {"power_w": 700, "memory": "80GiB", "tdp_w": 1000, "nics": 8, "name": "g4999"}


def test_the_bound_counts_the_hand_counted_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_YAML_EXPANDED_NODES", HAND_NODES)
    assert len(safe_load_yaml(TEXT)) == ENTRIES + 1
    monkeypatch.setattr(limits, "MAX_YAML_EXPANDED_NODES", HAND_NODES - 1)
    with pytest.raises(AliasExpansionError):
        safe_load_yaml(TEXT)
