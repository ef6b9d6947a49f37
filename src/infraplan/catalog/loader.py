"""Find and load catalog entries: a preset name shipped in the package, or a path to a user's file.

Presets live beside this module (`accelerators/*.yaml`, `systems/*.yaml`, `models/*.json`) and are
read through `importlib.resources`, so an installed wheel works as well as a clone.

A user's accelerator or system file may start from a preset (`extends: h100-sxm`) and write only what it changes:
a hardware architect's what-if (examples/hardware/). The preset's measured tables keyed by its name then apply
(`Accelerator.catalog_name`), so an unchanged `extends` file answers exactly as the preset; file paths written inside
a file (`accelerator:`, `extends:`) are read beside it. `is_what_if` tells such a part from its preset.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infraplan.catalog.file_checks import problem_text
from infraplan.catalog.loader_kinds import another_kinds_file, refuse_as_model, refuse_other_kind
from infraplan.catalog.model_config import TransformerShape, shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.output_files import shown_path as _shown
from infraplan.catalog.part_files import (
    AcceleratorFileWarning,
    check_format_peaks,
    read_part_fields,
    unread_figures_said,
)
from infraplan.catalog.preset_folders import preset_files
from infraplan.catalog.schemas import Accelerator, Network, System
from infraplan.catalog.user_files import parse_text, read_text_file
from infraplan.catalog.versioned_cache import versioned_cache
from infraplan.errors import InputError, close_names, wrong_kind


def list_presets(folder: str) -> list[str]:
    """Names of the shipped presets in a catalog folder ('accelerators', 'systems', 'models', ...)."""
    return sorted(preset_files(folder))


def looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.endswith((".yaml", ".yml", ".json"))


def check_preset(folder: str, ref: str, what: str | None = None,
                 offered: Callable[[], list[str]] | None = None) -> None:
    """InputError unless `ref` names a shipped preset of the catalog folder: "unknown model 'x'; did you mean ...?"
    (the line `read_entry` gives; a spec checks its names with it when it is validated, before anything runs).
    `offered`: the presets the caller takes, suggested and listed instead of the whole folder (a campus takes no CPU
    preset: listing one it then refuses misled, hU44), called only when `ref` is not a preset."""
    presets = preset_files(folder)
    if ref not in presets:
        what = what or folder.rsplit("/", 1)[-1].removesuffix("s")
        names = list(presets) if offered is None else offered()
        close = close_names(ref, names)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(sorted(names))}"
        raise InputError(f"unknown {what} {_shown(ref)!r}{hint}")  # cut: a 5,000-character name was echoed whole


def read_entry(folder: str, ref: str, what: str | None = None) -> tuple[dict[str, Any], str]:
    """Return (raw mapping, display name) for a preset in a catalog folder or a file path.

    `what` names the entry in errors (default: the folder name without its plural s).
    """
    what = what or folder.rsplit("/", 1)[-1].removesuffix("s")
    if looks_like_path(ref):
        data = parse_text(read_text_file(ref, f"{what} file"), ref)
        path = Path(ref[-255:])
        name = path.stem if path.stem != "config" else path.parent.name or "config"
    else:
        check_preset(folder, ref, what)
        entry = preset_files(folder)[ref]
        data = parse_text(entry.read_text(), entry.name)
        name = ref
    if not isinstance(data, dict):
        raise InputError(f"{what} file {_shown(ref)} must hold a mapping, not a {type(data).__name__}")
    return data, name


ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(cls: type[ModelT], data: Any, ref: str, what: str | None = None) -> ModelT:
    """Validate `data` as `cls`; its errors become one line naming the file, every missing field, the first other
    problem and a did-you-mean for an unknown key (`catalog.file_checks`)."""
    label = what or cls.__name__.lower()
    if not isinstance(data, dict):
        raise InputError(f"{label} {_shown(ref)} must be a mapping, not a {type(data).__name__}")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:  # another kind's file (a plan scenario as a system): what it is and who reads it
        other = another_kinds_file(data, ref, label) if looks_like_path(ref) else None
        raise InputError(other or f"invalid {label} {_shown(ref)!r}: {problem_text(cls, exc.errors())}") from None


def beside(value: str, ref: str) -> str:
    """A file path written inside the file `ref` (`accelerator:`, `extends:`), relative to `ref`'s folder where
    the file is there (or nowhere else), as a user reads it; a preset name or an absolute path as written."""
    if not looks_like_path(value) or not looks_like_path(ref) or Path(value).is_absolute():
        return value
    near = Path(ref).parent / value
    return str(near) if _exists(near) or not _exists(Path(value)) else value


def _exists(path: Path) -> bool:
    """`path.exists()`, False for a name the system cannot look up (too long: an OSError traceback from a part
    file's 6,000-character `recsys_profile`, hX50; a NUL byte): `read_text_file` then says why in one line."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def pool_files_beside(data: Any, ref: str) -> Any:
    """A fleet-mix or plan spec's data (`ref`: its file), each pool's `device` / `system` / `stack` file and each
    service's `model` / `workload` / `stack` file read `beside` the spec, not from the working directory (fleet-mix
    hU50, plan hU54; a service's config.json hU session 52: a plan with `model: cfg/x.json` beside it ran its pools
    from beside it and refused the model, "no such file"), and each site's `system` / `accelerator` / `location` /
    `cooling` / `build_type` file (a plan's sites, a `campus --fleet` file's: hN76, "no such file: rdhx.yaml" for a
    cooling file beside the scenario) and a plan policy's `failure_rate` file; anything else as read, for the schema
    to judge."""
    if isinstance(data, dict):
        for part, keys in (("pools", ("device", "system", "stack")), ("services", ("model", "workload", "stack")),
                           ("sites", ("system", "accelerator", "location", "cooling", "build_type"))):
            items = data.get(part)
            if isinstance(items, list):
                data[part] = [{**item, **{k: beside(v, ref) for k in keys if isinstance(v := item.get(k), str)}}
                              if isinstance(item, dict) else item for item in items]
        policy = data.get("policy")
        if isinstance(policy, dict) and isinstance(rate := policy.get("failure_rate"), str):
            data["policy"] = {**policy, "failure_rate": beside(rate, ref)}
    return data


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on `base`: mappings merge key by key (`efficiency: {memory_bandwidth_fraction: 0.9}` keeps the other
    efficiencies), anything else (numbers, strings, lists, null) replaces the base's value."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (_merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict)
                    else value)
    return out


_EXTENDING: set[str] = set()  # files being resolved through `extends` (a loop is refused, not recursed)


def extended(folder: str, data: dict[str, Any], ref: str, load: Callable[[str], BaseModel]) -> dict[str, Any]:
    """A what-if file's mapping over the entry it `extends` (a preset name or a file): the base's validated fields,
    then the file's own (`_merged`); `source` and `display_name` say what it is unless the file gives them."""
    base_ref = data.pop("extends")
    what = folder.removesuffix("s")
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise InputError(f"{what} file {_shown(ref)}: extends must name a {what} preset or file, got {base_ref!r}")
    written, base_ref = base_ref, beside(base_ref, ref)
    key = str(Path(ref).resolve()) if looks_like_path(ref) else ref
    if key in _EXTENDING:
        raise InputError(f"{what} file {_shown(ref)}: extends loops back to itself")
    names = {n: k for k in ("system", "accelerator", "stack") for n in preset_files(f"{k}s")}
    if not looks_like_path(base_ref) and base_ref not in preset_files(folder):  # a typo, or the other kind's name
        raise InputError(_no_base(what, base_ref, ref, names))
    if looks_like_path(base_ref) and not _exists(Path(base_ref)):  # hI62: was "no such file: X" naming no extends
        where = "" if Path(written).is_absolute() else " (read beside the file, else from the working folder)"
        raise InputError(f"{what} file {_shown(ref)}: extends {written!r}: no such file {_shown(base_ref)}{where}")
    _EXTENDING.add(key)
    try:
        base = load(base_ref)
    finally:
        _EXTENDING.discard(key)
    own = sorted(k for k in data if k != "name")
    if isinstance(base, Accelerator) and isinstance(data.get("peak_flops_per_s"), dict):
        check_format_peaks(base, data["peak_flops_per_s"], ref)
    merged = _merged(base.model_dump(exclude={"name"}), data)
    if isinstance(base, Accelerator):  # the preset whose name-keyed measured tables it takes
        merged["extends"] = base.catalog_name
    if "source" not in data:
        merged["source"] = (f"what-if over {base_ref} (this file sets {', '.join(own) or 'nothing'}): "
                            f"{getattr(base, 'source', '')}")
    if "display_name" not in data:
        merged["display_name"] = f"{data['name']} (what-if over {getattr(base, 'display_name', base_ref)})"
    return merged


def _no_base(what: str, base_ref: str, ref: str, names: dict[str, str]) -> str:
    """The error of an `extends` that names no preset of the file's kind, saying which kinds were looked up: a system
    file's name is looked up as a system and as an accelerator (`--system FILE` takes an accelerator file too,
    `is_accelerator_file`); a name of another kind is said to be one, else the closest names of every kind."""
    looked = "system or accelerator" if what == "system" else what
    if base_ref in names:
        a = "an" if what[0] in "aeiou" else "a"
        return (f"{what} file {_shown(ref)}: extends names {names[base_ref]} preset {base_ref!r}, not {a} {what} "
                f"preset ({a} {what} file extends {a} {what} preset or file)")
    close = difflib.get_close_matches(base_ref, list(names), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(f'{names[c]} {c}' for c in close)}?" if close else ""
    return f"{looked} file {_shown(ref)}: extends names no {looked} preset: {base_ref!r}{hint}"


def is_accelerator_file(ref: str) -> bool:
    """Whether the file `ref` describes an accelerator (its peaks, or `extends` naming an accelerator), not a system:
    `--system FILE` takes either (an accelerator file gets the generic node and Clos, as a preset name does)."""
    if not looks_like_path(ref):
        return False
    try:
        data, _ = read_entry("accelerators", ref)
    except InputError:
        return False
    base = data.get("extends")
    return "accelerator" not in data and ("peak_flops_per_s" in data or (
        isinstance(base, str) and (base in preset_files("accelerators") or is_accelerator_file(beside(base, ref)))))


@versioned_cache(maxsize=256)
def load_accelerator(ref: str) -> Accelerator:
    """An accelerator preset or file. A file may start from a preset (`extends: h100-sxm`) and set only what it
    changes (`memory_bandwidth_bytes_per_s: 5TB/s`): the preset's name-keyed measured tables then apply to it
    (`Accelerator.catalog_name`). A file without `extends` holding a preset's figures is that preset (`_twin`)."""
    data, name = read_entry("accelerators", ref)
    refuse_other_kind(data, ref, beside)  # a video device's or a system's file: was "vendor: Field required" (hU50)
    data.setdefault("name", name)
    read_part_fields(data, ref, beside)  # the recsys profile's file it names, read beside it
    if "extends" in data:  # a what-if saved under a preset's name is renamed too (session 40)
        accelerator = validated(Accelerator, extended("accelerators", data, ref, load_accelerator), ref)
        named = looks_like_path(ref) and accelerator.name in preset_files("accelerators")
    else:
        accelerator, named = validated(Accelerator, data, ref), looks_like_path(ref)
    part = _named_like_preset(accelerator, ref) if named else accelerator
    return unread_figures_said(part, ref) if looks_like_path(ref) else part  # a user's file: what it sets unread


def _named_like_preset(accelerator: Accelerator, ref: str) -> Accelerator:
    """A file named like a preset (a user's edited ./h200.yaml, or `name: h200`) whose figures differ from it, as a
    what-if of that preset named `<name>-what-if`: it took the preset's name-keyed measured tables (NCCL, MNNVL,
    serving release tables), error bands and price as the preset itself, silently (hF2, session 39). As an `extends`
    file it keeps them where README's what-if rules keep them (its price with a note, a changed peak drops the
    release tables), and a warning names the figures that differ; a copy with the preset's figures is the preset."""
    if accelerator.name not in preset_files("accelerators"):
        return _twin(accelerator)
    preset = load_accelerator(accelerator.name)
    mine, theirs = (_figures(a) for a in (accelerator, preset))
    differ = [key for key in mine if mine[key] != theirs[key]]
    if not differ:
        return accelerator
    name = f"{preset.name}-what-if"
    warnings.warn(f"accelerator file {_shown(ref)} is named like the preset {preset.name} but its figures differ "
                  f"({', '.join(differ)}): taken as a what-if of {preset.name} named {name} (as `extends: "
                  f"{preset.name}`), keeping {preset.name}'s measured NCCL/MNNVL tables, reference node, error bands, "
                  f"failure rate and price; to say so yourself, name it otherwise and write `extends: {preset.name}`",
                  AcceleratorFileWarning, stacklevel=2)
    return accelerator.model_copy(update={"name": name, "extends": preset.name,
                                          "display_name": f"{name} (what-if over {preset.display_name})"})


def _twin(accelerator: Accelerator) -> Accelerator:
    """An accelerator of no preset's name whose figures (all but `_LABELS`) are a preset's, as extending it: a copy
    of h200.yaml saved as my-h200.yaml is an H200 and takes its name-keyed measured tables (NCCL, MNNVL), reference
    node, error bands, failure rate and price, as a file saying `extends: h200` does (hX3, session 39: the copy
    was priced as a new part, 0.1-0.3 % off in TPOT and step time and unpriced; a what-if that changes nothing
    answers as its preset, tests/catalog/test_what_if_files.py)."""
    presets = preset_files("accelerators")
    if accelerator.name in presets:
        return accelerator
    figures = _figures(accelerator)
    twin = next((p for p in sorted(presets) if _figures(load_accelerator(p)) == figures), None)
    return accelerator if twin is None else accelerator.model_copy(update={"extends": twin})


_LABELS = frozenset({"name", "display_name", "source", "extends", "notes", "vendor", "fp8_gemm_layouts_source",
                     "price_usd", "price_source", "figures", "figures_note", "intended_use", "host_source",
                     "embodied_kgco2e_per_accelerator", "embodied_source",
                     "liquid_cooled", "liquid_cooled_source", "available_year", "available_source"})  # a price,
# carbon, cooling, a first-shipping date or a label moves no time


def _figures(accelerator: Accelerator) -> dict[str, Any]:
    """Everything of `accelerator` that moves an answer: all but `_LABELS` and the efficiency block's own `source`
    text (hU41, session 41: a copy of h200.yaml with a word added to `efficiency.source` became `h200-what-if`, and
    `search` of Llama 3 70B on 64 of them dropped the published-MFU guard: 10.74 -> 7.70 s)."""
    return accelerator.model_dump(exclude={**dict.fromkeys(_LABELS, True), "efficiency": {"source"}})


def is_what_if(accelerator: Accelerator) -> bool:
    """Whether an accelerator differs from its catalog preset (`catalog_name`) in anything but labels, or has none: a
    what-if file or `Cluster.scaled`. Nothing published was measured on it (`training.search` ranks its plans by
    predicted time, not held to the family's published MFU)."""
    if accelerator.catalog_name not in preset_files("accelerators"):
        return True
    preset = load_accelerator(accelerator.catalog_name)
    return _figures(accelerator) != _figures(preset)


@versioned_cache(maxsize=256)
def load_system(ref: str) -> System:
    """A system preset or file; its `accelerator:` may be a file path, read relative to the system file's folder.
    A file may start from a system preset (`extends: gb200-nvl72-superpod`) and set only what it changes
    (`node: {scale_up_domain: 144}`)."""
    data, name = read_entry("systems", ref)
    data.setdefault("name", name)
    base_ref, own_node, own_network = data.get("extends"), data.get("node"), data.get("network")
    if "extends" in data:
        data = extended("systems", data, ref, load_system)
        own_balancing(data, own_network, load_system(beside(str(base_ref), ref)).network)  # (`extended` read it)
    if isinstance(data.get("accelerator"), str):
        data["accelerator"] = beside(data["accelerator"], ref)
    system = validated(System, data, ref)
    part = load_accelerator(system.accelerator)  # the accelerator it names must exist
    if isinstance(base_ref, str):
        return _own_node(system, part, load_system(beside(base_ref, ref)), own_node)  # (`extended` read it)
    return system


def _own_node(system: System, part: Accelerator, base: System, own: object) -> System:
    """An extending system file's node without the base's figures of another node, unless the file states them:
    another part in the base's servers takes its own host share (`host_power_w`); another part or another count a
    node (`accelerators_per_node`) the part's own price (the base's `server_price_usd` priced the base's node: an H200
    node's $400,000 made each B200 of a file extending it $50,000, each of a 4-GPU node's $100,000; hV76)."""
    own = own if isinstance(own, dict) else {}
    base_part = load_accelerator(base.accelerator)
    drop = set()
    if base_part.catalog_name != part.catalog_name and "host_power_w" not in own:
        drop |= {"host_power_w", "host_power_source"}
    if (base.node.server_price_usd is not None and "server_price_usd" not in own
            and (base_part != part or base.node.accelerators_per_node != system.node.accelerators_per_node)):
        drop |= {"server_price_usd", "server_price_source"}
    if not drop:
        return system
    node = system.node.model_dump(exclude=drop, exclude_unset=True)
    return system.model_copy(update={"node": type(system.node)(**node)})


def own_balancing(data: dict[str, Any], own: object, base: Network) -> None:
    """An extending system file's fabric balancing, in place: the base's `load_balancing` and its source describe the
    base's switches. A file that changes the fabric's `kind` and states no `load_balancing` takes its kind's default
    (an InfiniBand system re-stated as RoCE kept adaptive routing, its source citing Quantum-2 switches: hV73's
    leftover); one that states another `load_balancing` without a source is asked for one, as a file of its own is
    (it took the base's source, which says the opposite)."""
    net = data.get("network")
    if not isinstance(own, dict) or not isinstance(net, dict):
        return
    if "load_balancing" not in own and own.get("kind", base.kind) != base.kind:
        net.pop("load_balancing", None)
        net.pop("load_balancing_source", None)
    elif own.get("load_balancing", base.load_balancing) != base.load_balancing and "load_balancing_source" not in own:
        net.pop("load_balancing_source", None)


def load_model(ref: str) -> TransformerShape:
    """A model preset or config.json file, read once per process per version of the file: a file edited between two
    calls of the Python API is read again (keyed by its path only, the first shape was returned for every edit).
    Anything but text is one InputError line (`load_model(None)` was a TypeError from the cache, hK66)."""
    if not isinstance(ref, str):
        raise wrong_kind("model", "a preset name or a config.json path (text)", ref)
    return _load_model(ref)


@versioned_cache(maxsize=256)
def _load_model(ref: str) -> TransformerShape:
    data, name = read_entry("models", ref)
    refuse_as_model(data, ref)
    return shape_from_hf_config(data, name)


@versioned_cache(maxsize=256)
def model_config_warnings(ref: str) -> tuple[str, ...]:
    """The `ModelConfigWarning` lines a model preset or config.json gives (said once a process on stderr, when
    `load_model` first reads it): a sweep stores them in each row of the model (`sweep.functions.run_batch`), where
    one warning on stderr named none of the rows it priced."""
    data, name = read_entry("models", ref)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape_from_hf_config(data, name)
    return tuple(str(w.message) for w in caught if issubclass(w.category, ModelConfigWarning))
