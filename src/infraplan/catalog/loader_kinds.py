"""Another kind's file where an accelerator is asked for: one line saying what the file is and what to give instead.

`--accelerator FILE` (recsys, facility --count, campus) and a what-if's `extends:` read an accelerator file
(`catalog.loader.load_accelerator`). A video ASIC's file there (hU50) and a system file there (hA50, session 45: a
hardware architect's rack file given to `recsys --accelerator` or `campus --accelerator` read "invalid accelerator
'rack.yaml': vendor: Field required") are each named, with the file to give: a system file's own `accelerator:`.

A part file's `recsys_profile` names a recommendation profile's file (`catalog.part_files`). A part file there (the
part's own, or another part naming the first back: hX50, session 46) read "invalid recsys profile 'part.yaml': tiers:
Field required", true but not telling; it, a system's and a video device's file are named (`refuse_as_profile`).
A hardware or stack file given where a model's config.json is asked for is named too (`refuse_as_model`).

Any user file that fails its schema and reads as another kind's (a plan scenario, a fleet-mix or sweep spec, a
campus fleet, a config.json, a system, an accelerator, a stack, a workload, a site's cooling, location or build type
file: `another_kinds_file`, hU69, hC73) is named in one line with the command that reads it, where the schema's line
listed every field the other file lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infraplan.catalog.output_files import shown_path
from infraplan.catalog.preset_folders import what_if_kind
from infraplan.errors import InputError

SYSTEM_KEYS = frozenset({"node", "network", "total_accelerators"})
"""Keys only a system file holds (`catalog.schemas.System`); an accelerator file holds none of them."""


def refuse_other_kind(data: dict[str, Any], ref: str, beside: Callable[[str, str], str]) -> None:
    """InputError where the mapping read from `ref` is a video device's or a system's, not an accelerator's
    (`beside`: `catalog.loader.beside`, the path a file written inside `ref` names)."""
    if data.get("kind") == "video-asic":
        raise InputError(f"{shown_path(ref)} is a video device file (kind: video-asic), not an accelerator: `video "
                         "--device FILE` and a fleet-mix pool take it")
    if "peak_flops_per_s" in data or not SYSTEM_KEYS & set(data):
        return
    inner = data.get("accelerator")
    named = f": {shown_path(beside(inner, ref))}" if isinstance(inner, str) else ""
    raise InputError(f"{shown_path(ref)} is a system file (node, network), not an accelerator file: give its "
                     f"accelerator's file or preset here{named}; `train`, `search`, `serve`, `serve-plan`, `facility` "
                     "and a fleet-mix pool take the system file itself (--system, `device:`)")


PART_KEYS = frozenset({"peak_flops_per_s", "efficiency", "recsys_profile", "tdp_w"})
"""Keys an accelerator file holds (`catalog.schemas.Accelerator`) and a recsys profile does not."""


def _hardware_kind(data: dict[str, Any], video: bool = False, stack: bool = False) -> str | None:
    """Which other file the mapping is, as a refusal names it: a video device's (`video`), an accelerator's or a
    system's (with the keys that say so), a stack's (`stack`); None where it is none of them."""
    keys = set(data)
    if video and data.get("kind") == "video-asic":
        return "a video device file (kind: video-asic)"
    if PART_KEYS & keys:
        return f"an accelerator file ({', '.join(sorted(PART_KEYS & keys))})"
    if SYSTEM_KEYS & keys:
        return f"a system file ({', '.join(sorted(SYSTEM_KEYS & keys))})"
    return "a stack file" if stack and ("stack_class" in data or "extends" in data and "display_name" in data) else None


def refuse_as_profile(data: dict[str, Any], ref: str) -> None:
    """InputError where the mapping read from `ref`, asked for as a recsys profile, is an accelerator's, a system's
    or a video device's file."""
    if (kind := _hardware_kind(data, video=True)) is not None:
        raise InputError(f"recsys profile {shown_path(ref)} is {kind}, not a recsys profile: a part's "
                         "recsys_profile names a profile's own file (memory tiers, vector rate: `infraplan schema "
                         "catalog recsys-devices`; `infraplan catalog recsys-devices default` prints one to start "
                         "from) or a preset name")


def refuse_as_model(data: Any, ref: str) -> None:
    """InputError where a file given as a model (a config.json is asked for) is an accelerator's, a system's or a
    stack's: `train hw/part.yaml` printed a warning naming all 15 of the part's keys "not understood", a second on
    the missing model_type, then "lacks hidden_size, num_hidden_layers, num_attention_heads" (hU, session 52)."""
    if isinstance(data, dict) and (kind := _hardware_kind(data, stack=True)) is not None:
        raise InputError(f"model {shown_path(ref)} is {kind}, not a Hugging Face config.json: give the model as a "
                         "preset name or its config.json, the hardware with --system, a stack with --stack")
    if (other := another_kinds_file(data, ref, "model", what_if=False)) is not None:  # a plan scenario (hU69)
        raise InputError(other.replace("not a model file", "not a Hugging Face config.json"))
    if isinstance(data, dict) and isinstance(data.get("extends"), str) and not _model_config(set(data)):
        raise InputError(f"model {shown_path(ref)} extends {data['extends']!r}: it is a what-if of a catalog file "
                         "(an accelerator's, a system's or a stack's), not a Hugging Face config.json: give the "
                         "model as a preset name or its config.json, the hardware with --system, a stack with --stack")


def _model_config(keys: set[str]) -> bool:
    return bool({"model_type", "num_hidden_layers", "architectures"} & keys)


_FILE_KINDS: tuple[tuple[str, str, Callable[[set[str], dict[str, Any]], bool], str], ...] = (
    # (the label `catalog.loader.validated` is given for it, what the file is, its keys' test, who reads it)
    ("scenario", "a plan scenario (phases, services, pools at sites)",
     lambda k, d: "phases" in k or "sites" in k and bool({"services", "pools"} & k), "`infraplan plan FILE` plans it"),
    ("fleet spec", "a fleet-mix spec (services, pools)", lambda k, d: {"services", "pools"} <= k,
     "`infraplan fleet-mix FILE` sizes it"),
    ("fleet", "a campus fleet file (sites)", lambda k, d: "sites" in k and not {"phases", "services", "pools"} & k,
     "`infraplan campus --fleet FILE` sizes it"),
    ("sweep", "a sweep spec (function, axes)", lambda k, d: {"function", "axes"} <= k,
     "`infraplan sweep FILE --out DIR` runs it"),
    ("model", "a model's config.json", lambda k, d: _model_config(k), "`train`, `serve` and `serve-plan` take it as "
     "the model"),
    ("video device", "a video device file (kind: video-asic)", lambda k, d: d.get("kind") == "video-asic",
     "`video --device FILE` and a fleet-mix pool take it"),
    ("system", "a system file (node, network)", lambda k, d: bool(SYSTEM_KEYS & k), "`--system` takes it (train, "
     "search, serve, serve-plan, network, collective, facility, reliability)"),
    ("accelerator", "an accelerator file (its peaks)", lambda k, d: "peak_flops_per_s" in k, "`--accelerator` takes "
     "it (facility, campus, recsys), and `--system` as a generic server of it"),
    ("stack", "a stack file (stack_class)", lambda k, d: "stack_class" in k, "`--stack` takes it"),
    ("workload", "a serving workload file (input_tokens, output_tokens, arrival)",
     lambda k, d: {"input_tokens", "output_tokens"} <= k, "`serve --workload FILE` takes it"),
    ("recsys profile", "a recsys profile (tiers, vector_flops_per_s)",
     lambda k, d: {"tiers", "vector_flops_per_s"} <= k, "a part's `recsys_profile` names it"),
    # a site's three files (facility, campus, a fleet or plan site): `--location cool.yaml` listed the location
    # schema's missing fields (hN72)
    ("cooling type", "a cooling type file (max_rack_power_w, pue)", lambda k, d: {"max_rack_power_w", "pue"} <= k,
     "`--cooling` takes it (facility, campus; a site's `cooling:`)"),
    ("location", "a location file (climate, electricity_usd_per_mwh)",
     lambda k, d: {"climate", "electricity_usd_per_mwh"} <= k,
     "`--location` takes it (facility, campus; a site's `location:`)"),
    ("build type", "a build type file (usd_per_w, build_months)", lambda k, d: {"usd_per_w", "build_months"} <= k,
     "`--build-type` takes it (facility, campus; a site's `build_type:`)"),
)
_SAID = {"scenario": "plan scenario", "fleet spec": "fleet-mix spec", "fleet": "campus fleet", "sweep": "sweep spec"}
_PLANNERS = frozenset({"scenario", "fleet spec"})  # each names the other itself (`scenario_types.not_the_other_spec`)


def reader_of(kind: str) -> str:
    """Which commands read a file of `kind` (a `_FILE_KINDS` label: system, accelerator, stack, ...)."""
    return next(reader for label, _, _, reader in _FILE_KINDS if label == kind)


def another_kinds_file(data: Any, ref: str, label: str, what_if: bool = True) -> str | None:
    """The line for a user's file `ref` that failed validation as a `label` (system, accelerator, fleet, ...) and
    reads as another kind's file (hU69): `network examples/plan-minimal.yaml` listed the system schema's missing
    fields ("display_name, source, accelerator, ...: Field required; phases: Extra inputs ...") where it is a plan
    scenario that `plan` reads; a what-if of a system, accelerator or stack preset too, unless `what_if` is False
    (its `extends` names a preset of the `label` kind as well: a recsys profile is named like its part). None where
    the file is none of them, or reads as a `label` itself (a system file with a wrong figure keeps the schema's
    line)."""
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        return None
    keys, wanted = set(data), label.removesuffix(" file")
    if any(kind == wanted and test(keys, data) for kind, _, test, _ in _FILE_KINDS):
        return None
    for kind, what, test, reader in _FILE_KINDS:
        if kind != wanted and test(keys, data) and not {kind, wanted} <= _PLANNERS:
            wanted = _SAID.get(wanted, wanted)
            return f"{shown_path(ref)} is {what}, not {_a(wanted)} {wanted} file: {reader}"
    return _what_if_line(data.get("extends"), ref, wanted) if what_if else None


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _what_if_line(base: object, ref: str, wanted: str) -> str | None:
    """The line for a what-if file (`extends: PRESET` and the figures it changes, as examples/hardware/ and
    examples/stacks/ write them) given where another kind's file is asked for (hN75): `plan
    examples/hardware/h100-hbm-plus50.yaml` listed the scenario schema's fields ("name, phases, services, pools,
    sites: Field required; extends: Extra inputs are not permitted; ..."), as did fleet-mix, `campus --fleet`,
    `sweep` and `reliability --failure-rate` given it or a stack's what-if. None where `base` names no preset of a
    kind that `extends`, or the file's own kind's."""
    kind = what_if_kind(base)
    if kind is None or kind == wanted:
        return None
    wanted = _SAID.get(wanted, wanted)
    return (f"{wanted} file {shown_path(ref)} extends {kind} preset {base!r}: it is a what-if of {_a(kind)} {kind} "
            f"file, not {_a(wanted)} {wanted} file: {reader_of(kind)}")
