"""`catalog.yaml_text`'s duplicate-key line for a huge key (hM70 mutation wave: the key's cut in the message survived
every test). A key of 1,000 characters given twice is still refused in one short line (the product's rule: bad
input is one clear line), naming the key by its start and both lines."""

from __future__ import annotations

import pytest

from infraplan.catalog.yaml_text import DuplicateKeyError, safe_load_yaml


def test_a_huge_repeated_key_is_named_in_a_short_line():
    key = "k" * 1000  # under YAML's 1,024-character limit on an implicit key (PyYAML refuses a longer one)
    with pytest.raises(DuplicateKeyError) as caught:
        safe_load_yaml(f"{key}: 1\nother: 2\n{key}: 3\n")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200, len(message)
    assert message.startswith("duplicate key 'kkkk") and message.endswith("on line 3 (first on line 1)")


def test_two_merge_keys_in_one_mapping_are_not_a_repeat():
    """The module's rule: merge keys (`<<`) may repeat (each merges a mapping the entries of which the mapping's own
    override); PyYAML merges both (the first given wins a key both hold, its flatten_mapping)."""
    text = "a: &a {x: 1, z: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: *a\n  <<: *b\n  w: 0\n"
    assert safe_load_yaml(text)["c"] == {"x": 1, "y": 2, "z": 1, "w": 0}
