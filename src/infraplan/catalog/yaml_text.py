"""The product's YAML and JSON readers: catalog data, validation cases and every user YAML file (system,
accelerator, stack, model, scenario, fleet, sweep) are parsed by `safe_load_yaml`, which refuses a mapping key given
twice; a `.json` file (`catalog.user_files.parse_text`) by `safe_load_json`, which refuses an object's name given twice.

YAML 1.2 (yaml.org/spec/1.2.2, Sec. 3.2.1.1) requires a mapping's keys be unique; PyYAML's SafeConstructor keeps
the last of a repeated key silently (hH63, session 48: a device file's second `power_w:` won). The check is a
SafeLoader subclass whose `construct_mapping` looks at the keys before constructing them (hY64); on libyaml's
CSafeLoader it costs within the timing noise (104 shipped files: 445 -> 468 ms and 488 -> 467 ms, two runs).

JSON (a Hugging Face config.json, a shipped model preset, a system or model file written as JSON) under the same
rule: RFC 8259 Sec. 4 says an object's names SHOULD be unique and that where they are not, readers
differ; Python's `json.loads` keeps the last silently, as PyYAML did (hR70, session 49: a config.json giving
`num_hidden_layers` twice was priced with the second).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from infraplan import limits


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


# YAML 1.1's base-60 numbers (yaml.org/type/int.html, /float.html: `1:7` is 1 x 60 + 7 = 67, `1:30:00` 5400), which
# PyYAML's resolver reads and YAML 1.2 dropped (yaml.org/spec/1.2.2, Sec. 10.3.2: `1:7` is a string). A network
# planner writes a tier's `oversubscription: 1:7`, as the Llama 3 paper does; read as 67, it built a 48:1 spine
# without a word (hG, session 60). The readers below resolve ints and floats by YAML 1.1's patterns without the
# base-60 forms, so such a value stays the string written and its field reads it (`file_checks.Oversubscription`)
# or names it in its one-line error. No shipped file writes a base-60 number.
# A number with an exponent is a float as YAML 1.2's core schema reads it (Sec. 10.3.2: `[-+]? ( \. [0-9]+ | [0-9]+
# ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`), where YAML 1.1 wants a dot and a signed exponent: `1e5` and `2.5e9` were
# strings, so a count written `total_accelerators: 1e5` was refused "unable to parse string as an integer" while
# `1.0e+5` (and JSON's `1e5`) was read (session 60, hL). Now each is 100000.0, which an integer field takes as
# 100000 and refuses where it is not whole (`1.5e0`: "got a number with a fractional part", naming the field).
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_INT_NO_BASE_60 = re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
_FLOAT_NO_BASE_60 = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
                    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)


def _resolvers_without_base_60() -> dict[Any, list[tuple[str, Any]]]:
    """`yaml.SafeLoader`'s implicit resolvers, its int and float patterns replaced by the ones above."""
    ours = {_INT_TAG: _INT_NO_BASE_60, _FLOAT_TAG: _FLOAT_NO_BASE_60}
    return {first: [(tag, ours.get(tag, regexp)) for tag, regexp in resolvers]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


NO_BASE_60_RESOLVERS = _resolvers_without_base_60()


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a repeated mapping key (`_check_unique_keys`) and reads no base-60 number."""

    yaml_implicit_resolvers = NO_BASE_60_RESOLVERS

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _check_unique_keys(node)
        return super().construct_mapping(node, deep=deep)


_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
if _C_LOADER is not None:
    class _UniqueKeyCSafeLoader(_C_LOADER):  # type: ignore[misc,valid-type]  # PyYAML's C loader, untyped
        """libyaml's parser with the same SafeConstructor, the same duplicate-key refusal and resolvers."""

        yaml_implicit_resolvers = NO_BASE_60_RESOLVERS

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
        return _load(text, _FAST_YAML_LOADER)  # a safe loader: SafeConstructor
    except (DuplicateKeyError, AliasExpansionError):
        raise
    except yaml.YAMLError:
        return _load(text, _UniqueKeySafeLoader)


class AliasExpansionError(yaml.YAMLError):
    """A document whose aliases, expanded, hold more than `limits.MAX_YAML_EXPANDED_NODES` values, or an alias
    inside its own anchor (a "billion laughs" file: ten anchors of nine aliases each are 9**10 values; hH70,
    session 49: `plan` and `sweep` ran for minutes validating one)."""


def _load(text: str, loader_cls: Any) -> Any:
    """`yaml.load(text, Loader=loader_cls)` (PyYAML's `get_single_data`), the composed document's alias expansion
    checked before it is constructed where the text can hold an alias (an alias `*x` needs an anchor `&x`: no
    shipped file has one, so the catalog never pays for the check)."""
    if "&" not in text or "*" not in text:
        return yaml.load(text, Loader=loader_cls)  # noqa: S506  # a SafeLoader subclass
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _check_expansion(root: yaml.Node) -> None:
    """AliasExpansionError where the document, every alias expanded, holds more than `MAX_YAML_EXPANDED_NODES`
    nodes, or an alias sits inside its own anchor. Each distinct node is counted once (an alias is the anchor's
    node object again), depth-first without recursion: the started, unfinished nodes are the current one's
    ancestors."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > limits.MAX_YAML_EXPANDED_NODES:
                raise AliasExpansionError(f"its aliases expand to over {limits.MAX_YAML_EXPANDED_NODES:,} values "
                                          f"(line {node.start_mark.line + 1}): anchors and aliases nested "
                                          "too deep are refused, not expanded")
        elif key in open_nodes:
            raise AliasExpansionError(f"an alias inside its own anchor (line {node.start_mark.line + 1}): a "
                                      "value that contains itself")
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


class DuplicateJsonKeyError(ValueError):
    """A JSON object that gives one name twice (RFC 8259 Sec. 4; `json.loads` keeps the last silently)."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`' object_pairs_hook: the object as a dict, DuplicateJsonKeyError naming its first repeated name."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateJsonKeyError(f"duplicate key {key[:80]!r} in one JSON object")
            seen.add(key)
    return out


def _json_int(digits: str) -> int | float:
    """`json.loads`' parse_int for a request body: an integer past Python's int-from-text limit (4,300 digits) read as
    a float (inf), as JSON reads 1e5000, so that the field it stands in is refused by its own bound, by name; it was a
    ValueError before any field was read (the web's 400 "There was an error parsing the body", hI63 / hO63)."""
    return int(digits) if len(digits.lstrip("-")) <= _INT_TEXT_DIGITS else float(digits)


_INT_TEXT_DIGITS = 4300  # sys.get_int_max_str_digits()'s default (Python 3.11, CVE-2020-10735)


def safe_load_json(text: str, long_ints_as_floats: bool = False) -> Any:
    """`json.loads`, refusing an object that gives one name twice (`DuplicateJsonKeyError`, a ValueError as
    json's own errors are): the JSON side of `safe_load_yaml`'s rule (module docstring). `long_ints_as_floats`: an
    integer of more digits than Python reads is a float (`_json_int`; the web's request bodies), else the
    ValueError a file's reader reports as YAML's ("malformed file ...: Exceeds the limit (4300 digits)")."""
    if long_ints_as_floats:
        return json.loads(text, object_pairs_hook=_unique_object, parse_int=_json_int)
    return json.loads(text, object_pairs_hook=_unique_object)
