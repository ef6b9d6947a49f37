"""Load the inference catalog: recommendation models, per-device recommendation profiles, video devices,
software encoders and bitrate ladders.

Files live under `catalog/recsys/` (models), `catalog/recsys/devices/` (one profile per accelerator, named
like the accelerator) and `catalog/video/`; they are read through `importlib.resources`. Wherever a preset
name is accepted, a path to a user's YAML/JSON file is accepted too.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from infraplan.catalog.loader import looks_like_path, preset_files, read_entry, validated
from infraplan.catalog.loader_kinds import another_kinds_file, refuse_as_profile
from infraplan.catalog.output_files import shown_path
from infraplan.catalog.part_files import same_file
from infraplan.catalog.recsys_schemas import RecsysModel, RecsysProfile
from infraplan.catalog.user_files import parse_text
from infraplan.catalog.versioned_cache import versioned_cache
from infraplan.catalog.video_schemas import Ladder, SoftwareEncoders, VideoAsic
from infraplan.errors import InputError

_FOLDERS = {
    "recsys model": ("recsys",),
    "recsys profile": ("recsys", "devices"),
    "video device": ("video", "devices"),
}


def _presets(kind: str) -> dict[str, Any]:
    return preset_files("/".join(_FOLDERS[kind]))


def list_inference_presets(kind: str) -> list[str]:
    """Names of the shipped presets of a kind: 'recsys model', 'recsys profile' or 'video device'."""
    return sorted(_presets(kind))


def _read(kind: str, ref: str) -> tuple[dict[str, Any], str]:
    return read_entry("/".join(_FOLDERS[kind]), ref, kind)


@versioned_cache(maxsize=128)
def load_recsys_model(ref: str) -> RecsysModel:
    """A DLRM-family model: a preset name (dlrm-low, dlrm-medium, dlrm-high, mlperf-dlrm-dcnv2) or a file."""
    data, name = _read("recsys model", ref)
    _refuse_extends(data, ref, "recsys model", "recsys")
    data.setdefault("name", name)
    data.setdefault("display_name", data["name"])
    return validated(RecsysModel, data, ref, "recsys model")


def _refuse_extends(data: dict[str, Any], ref: str, what: str, kind: str) -> None:
    """A what-if's `extends: PRESET` (system, accelerator and stack files, catalog/loader.py) is not read by the
    inference files: refused by name, where the schema's first error was a required field ("source: Field
    required") that did not say why."""
    if "extends" in data:
        base = data["extends"] if isinstance(data["extends"], str) else "PRESET"
        own = base in preset_files("/".join(_FOLDERS[what]))  # `catalog recsys h100-sxm` printed no such preset
        if (other := another_kinds_file(data, ref, what, what_if=not own)) is not None:  # a part's what-if (hN74)
            raise InputError(other)
        raise InputError(f"{what} file {ref!r}: `extends` is read by system, accelerator and stack files only; write "
                         f"every field (`infraplan catalog {kind} {base}` prints the preset's)")


@versioned_cache(maxsize=64)
def load_recsys_profile_file(ref: str) -> RecsysProfile:
    """A recommendation profile as written: a preset of catalog/recsys/devices/ (by its accelerator's name, or
    `default`) or a user's file (`infraplan catalog recsys-devices FILE`; an accelerator file's `recsys_profile`).
    A file's `accelerator:` may be left out (the part naming it is the one it describes)."""
    data, name = _read("recsys profile", ref)
    refuse_as_profile(data, ref)  # a part's own file, or another part's (was "tiers: Field required", hX50)
    _refuse_extends(data, ref, "recsys profile", "recsys-devices")
    data.setdefault("accelerator", name)
    return validated(RecsysProfile, data, ref, "recsys profile")


def load_recsys_profile(accelerator: str, profile: str = "") -> RecsysProfile:
    """The recommendation profile of an accelerator (by its catalog name): `profile`, the part file's own
    `recsys_profile` (a preset name or a file, `catalog.part_files`), where given; else the preset named like the
    accelerator; else the conservative default."""
    ref = profile or (accelerator if accelerator in _presets("recsys profile") else "default")
    return load_recsys_profile_file(ref).model_copy(update={"accelerator": accelerator})


def has_recsys_profile(accelerator: str, profile: str = "") -> bool:
    """Whether `load_recsys_profile(accelerator, profile)` is a profile of the part's own, not the default (a part
    file's `recsys_profile: default` is the default, whatever preset it extends: hR49)."""
    return profile != "default" and (profile != "" or accelerator in _presets("recsys profile"))


@versioned_cache(maxsize=32)
def load_video_device(ref: str) -> VideoAsic:
    """A fixed-function video transcoder (msvp) by name or file."""
    data, name = _read("video device", ref)
    _refuse_extends(data, ref, "video device", "video-devices")
    data.setdefault("name", name)
    baseline = data.get("software_baseline")
    if isinstance(baseline, str) and looks_like_path(baseline) and same_file(baseline, ref):  # 1x (hX50)
        raise InputError(f"video device file {shown_path(ref)}: software_baseline names this file itself: name "
                         "what it is compared with, a CPU preset (xeon-8480) or another video device, or leave it out")
    dev = validated(VideoAsic, data, ref, "video device")
    _check_reference_job(dev, ref)
    return dev


def _check_reference_job(dev: VideoAsic, ref: str) -> None:
    """Refuse a reference job of more outputs than the ladder holds at or below its input (the input's own lines
    first where not a rung: `Ladder.rungs`): its published rate would be read over fewer rungs' pixels, the capacity
    counted short without a word (until session 67: `reference_outputs: 9` at 2160p read 8 rungs, hU67)."""
    rungs = load_ladder().rungs(dev.reference_input_height, dev.reference_outputs)
    if len(rungs) < dev.reference_outputs:
        where = f"video device file {shown_path(ref)}" if looks_like_path(ref) else f"video device {ref}"
        raise InputError(f"{where}: reference_outputs {dev.reference_outputs} is more than the ladder's "
                         f"{len(rungs)} {'rung' if len(rungs) == 1 else 'rungs'} at or below its "
                         f"reference_input_height {dev.reference_input_height} "
                         f"({', '.join(f'{h}p' for h in rungs)}: catalog/video/ladder.yaml); the reference job is "
                         f"read as the ladder's top rungs at its input, so at most {len(rungs)} "
                         f"{'output' if len(rungs) == 1 else 'outputs'}")


def is_video_device(ref: str) -> bool:
    """True for a shipped video-device preset, or a file declaring `kind: video-asic` or extending a video-device
    preset (refused by `load_video_device` in its own words, where `extends: msvp` was read as an accelerator's
    what-if: "extends names no accelerator preset: 'msvp'")."""
    if not looks_like_path(ref):
        return ref in _presets("video device")
    try:
        data, _ = _read("video device", ref)
    except InputError:
        return False
    base = data.get("extends")
    return data.get("kind") == "video-asic" or isinstance(base, str) and base in _presets("video device")


def video_device_line(ref: str, taken: str) -> str | None:
    """The line for a video transcoder given where `taken` (a system or accelerator, an accelerator) is asked: it was
    "unknown accelerator 'msvp'; known: ..." in `recsys` and "unknown system or accelerator" in `serve` / `train`,
    where fleet-mix says "msvp is a video transcoder" (hH66). None for anything else."""
    if looks_like_path(ref) or not is_video_device(ref):  # a file: `refuse_other_kind`'s "is a video device file" line
        return None
    return (f"{ref} is a video transcoder (`infraplan catalog video-devices`), not {taken}: `infraplan video --device "
            f"{ref}` prices its transcoding; fleet-mix and plan place it in a video service's pool")


@lru_cache(maxsize=1)
def load_software_encoders() -> SoftwareEncoders:
    entry = resources.files("infraplan.catalog") / "video" / "software-encoders.yaml"
    return validated(SoftwareEncoders, parse_text(entry.read_text(), entry.name), "software-encoders")


@lru_cache(maxsize=1)
def load_ladder() -> Ladder:
    entry = resources.files("infraplan.catalog") / "video" / "ladder.yaml"
    return validated(Ladder, parse_text(entry.read_text(), entry.name), "ladder")
