"""The one YAML reader of the product: catalog data, validation cases and every user file (system, accelerator,
stack, model, scenario, fleet, sweep) are parsed by `safe_load_yaml`, which refuses a mapping key given twice.

YAML 1.2 (yaml.org/spec/1.2.2, Sec. 3.2.1.1) requires a mapping's keys be unique; PyYAML's SafeConstructor keeps
the last of a repeated key silently (hH63, session 48: a device file's second `power_w:` won). The check is a
SafeLoader subclass whose `construct_mapping` looks at the keys before constructing them (hY64); on libyaml's
CSafeLoader it costs within the timing noise (104 shipped files: 445 -> 468 ms and 488 -> 467 ms, two runs).
"""

from __future__ import annotations

from typing import Any

import yaml


class DuplicateKeyError(yaml.YAMLError):
    """A mapping that gives one key twice: YAML 1.2 (yaml.org/spec/1.2.2, Sec. 3.2.1.1) requires keys be unique,
    and PyYAML's SafeConstructor silently keeps the last (hH63, session 48: a video device file's second
    `power_w:` won)."""


def _check_unique_keys(node: yaml.MappingNode) -> None:
    """DuplicateKeyError naming the first scalar key a mapping node repeats, with both lines (1-based). Keys are
    compared as written with their resolved tag (`1` and `"1"` differ); merge keys (`<<`) may repeat, as the
    entries they merge are overridden by the mapping's own by design."""
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            line = seen.setdefault((key.tag, key.value), key.start_mark.line + 1)
            if line != key.start_mark.line + 1:
                raise DuplicateKeyError(f"duplicate key {key.value[:80]!r} on line {key.start_mark.line + 1} "
                                        f"(first on line {line})")


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a repeated mapping key (`_check_unique_keys`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _check_unique_keys(node)
        return super().construct_mapping(node, deep=deep)


_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
if _C_LOADER is not None:
    class _UniqueKeyCSafeLoader(_C_LOADER):  # type: ignore[misc,valid-type]  # PyYAML's C loader, untyped
        """libyaml's parser with the same SafeConstructor and the same duplicate-key refusal."""

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            _check_unique_keys(node)
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    _FAST_YAML_LOADER: Any = _UniqueKeyCSafeLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FAST_YAML_LOADER = _UniqueKeySafeLoader


def safe_load_yaml(text: str) -> Any:
    """The one YAML reader of the product (catalog data, validation cases, every user file): `yaml.safe_load`
    through libyaml's parser when PyYAML has it (about 7x faster; the same constructor, so the same data), refusing
    a key given twice in one mapping (`DuplicateKeyError`, a `yaml.YAMLError`). Malformed text is parsed again by
    the pure-Python loader, so the error says the same."""
    try:
        return yaml.load(text, Loader=_FAST_YAML_LOADER)  # a safe loader: SafeConstructor
    except DuplicateKeyError:
        raise
    except yaml.YAMLError:
        return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506  # a SafeLoader subclass
