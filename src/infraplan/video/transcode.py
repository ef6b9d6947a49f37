"""Video transcoding on a fixed-function ASIC (MSVP) or CPU software encoders: streams per device, watts per
stream, and the devices a fleet needs to ingest H hours of video per day.

A job decodes one input (W x H at F fps) and encodes the top N rungs of the ladder at or below its short side (a
portrait 1080x1920 is a 1080p input: `rung_lines`), each at the input's aspect ratio and orientation, at the input
frame rate (SIMO). Work is in pixels per second: input pixels P_in = W H F, output pixels P_out = sum of the rungs.

- ASIC (MSVP): encoder capacity = reference_fps[quality] x (output pixels of the reference 5-rung 4K job),
  since throughput "scales linearly with resolution" (Meta MSVP blog, May 2023; SPIE 2023);
  streams = min(encoder capacity / P_out, decoder capacity / P_in).
- CPU socket (software, FFmpeg + libx264 / libvpx-vp9): core-seconds per second of video =
  P_in / decode rate + P_out / encode rate + (P_out - top rung) / scale rate, per-core rates as catalog data;
  streams = cores / core-seconds.

A stream here is one real-time transcode (one second of video per second). Ingesting H hours per day needs
H / 24 streams on average (the peak-to-average factor multiplies it). Power: the ASIC's module power or the
socket's TDP, at full load; `platform_power_w` adds the device's one host share (`cluster.host_share`, the
figure `recsys`, `fleet-mix` and `plan` add): for MSVP a Yosemite V3-class M.2 host's 40 W per module (ASSUMPTION,
catalog/video/devices/msvp.yaml `host_source`), for a CPU socket its memory, NIC, fans and PSU loss (the CPU's
accelerator file: Xeon 8480 150 W, EPYC 9654 170 W, ASSUMPTIONS). Fleet power is platform watts.

`baseline` (by default a video ASIC's catalog `software_baseline`, xeon-8480) prices the same job and ingest on
another device, like for like: platform watts on both sides. A module counted alone against a whole CPU server
overstated MSVP's saving 5x (fleet 16.7 kW vs 1.65 MW at 10,000 h/day of 2160p60 five-rung high-quality H.264
against Xeon 8480 sockets; 83 kW vs 1.65 MW with the host). Two ratios, each with its basis in its name:
`perf_per_w_ratio`, streams per platform watt (the like-for-like figure, the one fleet power follows), and
`device_perf_per_w_ratio`, module power against socket TDP with no host on either side; per device, each side's
`streams_per_device` (one 10 W module against one CPU socket: hardware counts, not efficiency).

The published speed-up (Meta MSVP blog, May 2023; Chaudhari et al., SPIE 2023, "Efficient video
processing at scale using MSVP" [V]) is "~9x for H.264 vs libx264" and "~50x vs libVPX speed 2", read off a
perf/W-vs-quality
comparison at on-par quality: a per-watt ratio, whose CPU, libx264 preset, resolution and power basis are not in
our sources. It is not a per-device ratio, so the 2x per device (0.25 vs 0.127 2160p60 jobs,
`streams_per_device_ratio`) is not its counterpart. The answer prints it beside the modelled ratios
(`published_ratio`, `published_basis`: catalog `published_speedup`, for the high-quality mode against a CPU) and
names what it compares (`comparison`: codec, quality, job, each side's encoder and watts). Only the VP9 / H.264
quotient (50 / 9) is free of the unpublished basis; the catalog's software rates give 5.2 for it.

`notes` (video/notes.py, built here so the CLI, web and API show the same lines) name each ASSUMPTION figure the
answer reads, an input beyond a video ASIC's published modes (answered: the source gives throughput figures, no hard
limit), a stream spread over several devices, and the comparison's basis with the published ratio beside the
model's and what explains the gap (not the job: the encode is ~99 % of the CPU's core time; not the codec: H.264 and
VP9 are ~2.1x over alike).
"""

from __future__ import annotations

import math
import re
from typing import Any

from infraplan import bounds
from infraplan.catalog import load_accelerator
from infraplan.catalog.error_bands import error_band, no_band_basis
from infraplan.catalog.inference_loader import is_video_device, load_ladder, load_software_encoders, load_video_device
from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.output_files import shown_path
from infraplan.catalog.part_files import same_file
from infraplan.catalog.video_schemas import CODECS, QUALITIES, Ladder, SoftwareEncoder
from infraplan.cluster.host_share import host_share
from infraplan.errors import InputError
from infraplan.limits import MAX_HOST_POWER_W
from infraplan.units import SECONDS_PER_DAY, quoted_text
from infraplan.video.notes import (
    POOL_HOST,
    asic_notes,
    comparison_note,
    cpu_notes,
    fractional_note,
    ladder_note,
    outside_modes_note,
)
from infraplan.video.results import VideoEstimate

INPUT_TEXT = r"(?:(\d{1,9})x)?(\d{1,9})p(\d{1,9}(?:\.\d{1,9})?)?"
"""A video input as text: [WIDTHx]HEIGHTp[FPS] (2160p60; 1080p, 30 fps; 1920x1080p30; 2160p59.94), read alike by
`video --input`, the web's VideoRequest and a scenario's video service. At most 9 digits a number, so a 5,000-digit
height is a reading error, not Python's int-conversion limit (a traceback before hI63)."""
_INPUT = re.compile(rf"\s*{INPUT_TEXT}\s*")


DEFAULT_RUNGS = 5
"""Rungs encoded where no ladder is asked for: MSVP's published job's five outputs (msvp.yaml `reference_outputs`);
fewer where a low input has fewer at or below it (a 480p input: 480p, 360p, 240p, 144p). Before session 63 the
default was a fixed 5, and `video --input 480p30` was refused for a `--ladder 5` the user had not written."""


def parse_input(text: str, ladder: Ladder) -> tuple[int, int, float]:
    """'2160p60' -> (3840, 2160, 60.0); '1080p' -> 30 fps; '1920x1080p30' gives the width explicitly."""
    match = _INPUT.fullmatch(str(text))
    if not match:
        raise InputError(f"cannot read video input {quoted_text(text)}; expected e.g. 2160p60, 1080p30 or "
                         "1920x1080p30")
    height = int(match.group(2))
    width = int(match.group(1)) if match.group(1) else ladder.width(height)
    fps = float(match.group(3)) if match.group(3) else 30.0
    if not 16 <= min(width, height) <= 8640 or not max(width, height) <= 15360 or not 0 < fps <= 240:
        raise InputError(f"video input {text!r} out of range (16 <= short side <= 8640 (16K), long side <= 15360, "
                         f"0 < fps <= 240)")
    return width, height, fps


def rung_lines(width: int, height: int) -> int:
    """The lines a ladder keys an input on: its short side, the p-number of the size (1080 for 1920x1080 and for a
    portrait 1080x1920). yt-dlp 2026.11.23 reads a format's resolution so ("`res`: Video resolution, calculated as
    the smallest dimension", its METADATA:1705; yt_dlp/utils/_utils.py:5422, `min` of height and width), as
    YouTube's quality labels do; before session 64 a portrait input was laddered on its long side (1080x1920 ->
    1920p, 1440p, ... at 810x1440 ...)."""
    return min(width, height)


def input_label(width: int, height: int) -> str:
    """'1080p' for a landscape (or square) input; '1080x1920 (1080p)' for a portrait one, keyed on its short side."""
    lines = rung_lines(width, height)
    return f"{lines}p" if width >= height else f"{width}x{height} ({lines}p)"


def _aspect_scale(ladder: Ladder, width: int, height: int) -> float:
    """A rung's long side over the ladder's width at its lines: the input's long side over the ladder's width at the
    input's short side (`_job`'s pixels, `rung_sizes`' sizes)."""
    return max(width, height) / ladder.width(rung_lines(width, height))


def _job(ladder: Ladder, width: int, height: int, fps: float, rungs: int) -> tuple[list[int], float, float]:
    """The rungs (their short sides: the ladder's lines), input and output pixels per second. Each rung keeps the
    input's aspect ratio and orientation: a portrait 1080x1920 input's 720p rung is 720x1280."""
    lines = ladder.rungs(rung_lines(width, height), rungs)
    scale = _aspect_scale(ladder, width, height)  # the input's aspect ratio on every rung
    out = sum(ladder.width(h) * scale * h for h in lines) * fps
    return lines, width * height * fps, out


def rung_sizes(ladder: Ladder, width: int, height: int, lines: list[int]) -> list[tuple[int, int]]:
    """Each rung's width x height at the input's aspect ratio and orientation (the long side rounded to even)."""
    scale = _aspect_scale(ladder, width, height)
    longs = [int(round(ladder.width(h) * scale / 2.0)) * 2 for h in lines]
    return [(long, h) if width >= height else (h, long) for h, long in zip(lines, longs, strict=True)]


def _asic_streams(device_ref: str, codec: str, quality: str, p_in: float, p_out: float, ladder: Ladder,
                  pool_host_w: float | None) -> dict:
    dev = load_video_device(device_ref)
    if codec not in dev.codecs:
        raise InputError(f"{dev.name} does not encode {codec}; it encodes {', '.join(dev.codecs)}")
    if quality not in dev.reference_fps:
        raise InputError(f"{dev.name} has no {quality!r} mode; known: {', '.join(dev.reference_fps)}")
    ref_heights = ladder.rungs(dev.reference_input_height, dev.reference_outputs)
    ref_out = sum(ladder.width(h) * h for h in ref_heights) * dev.reference_fps[quality]  # type: ignore[index]
    enc, dec = ref_out / p_out, dev.decode_pixels_per_s / p_in
    share = host_share(device_ref).watts if pool_host_w is None else pool_host_w  # a fleet pool's own (hX67)
    host = (f"host share {share:.4g} W ({POOL_HOST})" if pool_host_w is not None
            else f"host share {share:.4g} W" + (f", {dev.host}" if dev.host else "") if share > 0
            else f"no host share (0 W: {dev.host_source})" if dev.host_source.strip()
            else "no host share (its file gives no host_power_w, or 0)")
    bound = "encoder" if enc <= dec else "decoder"
    where = shown_path(device_ref) if looks_like_path(device_ref) else f"catalog/video/devices/{device_ref}.yaml"
    return {"device": dev.name, "kind": dev.kind, "streams_per_device": min(enc, dec),
            "bound": bound, "power_w": dev.power_w,
            "notes": asic_notes(where, dev, ladder, quality, codec, bound, share, pool_host_w is not None),
            "platform_power_w": dev.power_w + share, "host_power_w": share,
            "basis": f"module {dev.power_w:.4g} W + {host}", "encoder": f"{dev.name} ({quality} mode)"}


def cpu_core_seconds(codec: str, quality: str, p_in: float, p_out: float,
                     top: float) -> tuple[SoftwareEncoder, float, tuple[float, float, float]]:
    """The software encoder, the per-core decode rate (the input decoded as H.264) and the core-seconds per video
    second of decode, encode and scaling (`top`: the output pixels/s of a rung at the input's size, not scaled)."""
    sw = load_software_encoders()
    enc = sw.encoder(codec, quality)
    decode = sw.decode_pixels_per_s_per_core.get("h264") or min(sw.decode_pixels_per_s_per_core.values())
    return enc, decode, (p_in / decode, p_out / enc.pixels_per_s_per_core,
                         (p_out - top) / sw.scale_pixels_per_s_per_core)


def _cpu_streams(cpu_ref: str, codec: str, quality: str, p_in: float, p_out: float, top: float,
                 pool_host_w: float | None) -> dict:
    acc = load_accelerator(cpu_ref)
    if acc.kind != "cpu":
        kind = acc.kind.upper()  # asic, gpu, tpu: "an ASIC", "a GPU"
        raise InputError(f"{acc.name} is {'an' if kind[0] in 'AEIOU' else 'a'} {kind}, not a CPU or a video ASIC: "
                         "video runs on msvp or a CPU (no GPU video encoder is modelled: A100 and H100 have no NVENC)")
    enc, decode, split = cpu_core_seconds(codec, quality, p_in, p_out, top)
    core_s = sum(split)
    cores = acc.efficiency.compute_units
    share = host_share(acc)
    host, host_source = (share.watts, share.source) if pool_host_w is None else (pool_host_w, POOL_HOST)
    return {"device": acc.name, "kind": "cpu", "streams_per_device": cores / core_s, "bound": "cores",
            "power_w": acc.tdp_w, "platform_power_w": acc.tdp_w + host, "host_power_w": host,
            "basis": f"socket TDP {acc.tdp_w:.4g} W + host share {host:.4g} W per socket for memory, NIC, "
                              "fans and PSU loss",
            "encoder": f"{enc.library} {enc.preset} on {cores} cores", "cores": cores,
            "core_seconds_per_video_second": core_s,
            "notes": cpu_notes(acc.name, cores, load_software_encoders(), enc, decode, split, host, host_source)}


def baseline_fields(this: dict[str, Any], other: VideoEstimate, device: str) -> dict[str, Any]:
    """The `baseline` block: `this` is the estimate being built (a dict, platform fields set) of `device` (its
    preset or file), `other` the same job and ingest on the other device (no comparison of its own)."""
    job = this["input"]
    out: dict[str, Any] = {
        "device": other.device, "encoder": other.encoder, "basis": other.basis,
        "streams_per_device": other.streams_per_device, "watts_per_stream": other.watts_per_stream,
        "platform_watts_per_stream": other.platform_watts_per_stream,
        "perf_per_w_ratio": other.platform_watts_per_stream / this["platform_watts_per_stream"],
        "device_perf_per_w_ratio": other.watts_per_stream / this["watts_per_stream"],
        "streams_per_device_ratio": this["streams_per_device"] / other.streams_per_device,
        "comparison": (f"{this['codec']}, {this['quality']} quality, {job['width_px']}x{job['height_px']} at "
                       f"{job['fps']:g} fps -> {len(this['rungs_px'])} rungs: {this['encoder']} on {this['device']} "
                       f"({this['basis']}) vs {other.encoder} on {other.device} ({other.basis})"),
    }
    out.update(published_fields(device, this, other))
    fleet = this.get("fleet")
    if fleet is not None and other.fleet is not None:
        out.update({"fleet_device_count": other.fleet.devices, "fleet_power_w": other.fleet.power_w,
                    "fleet_power_saving_w": other.fleet.power_w - fleet["power_w"],
                    "energy_saving_per_day_j": other.fleet.energy_per_day_j - fleet["energy_per_day_j"]})
    return out


def published_fields(device: str, this: dict[str, Any], other: VideoEstimate) -> dict[str, Any]:
    """A video ASIC's published speed-up over the software encoder of its comparison (catalog `published_speedup`),
    when `this` is the ASIC at its highest-quality mode against a CPU: the pairing the source compares at on-par
    quality. Empty otherwise (a standard-mode or CPU-side comparison has no published counterpart)."""
    if this["kind"] != "video-asic" or other.kind != "cpu" or this["quality"] != "high":
        return {}
    dev = load_video_device(device)
    ratio = dev.published_speedup.get(this["codec"])
    if ratio is None:
        return {}
    return {"published_ratio": ratio,
            "published_basis": f"~{ratio:g}x vs {dev.published_speedup_versus[this['codec']]}: "
                               f"{dev.published_speedup_basis}"}


def _comparison_note(this: dict[str, Any], other: VideoEstimate, device: str, top: float) -> str:
    """`notes.comparison_note` with what the model can say of a published ratio's gap: the software encode's share of
    the CPU's core time (for an encoder-bound ASIC, whose rate scales with output pixels) and the device's other
    published codec's modelled ratio on the same job (the ASIC runs every codec at one rate, so it is this ratio x
    the CPU's core time of that codec / this codec's)."""
    block = this["baseline"]
    if block.get("published_ratio") is None or this["bound"] != "encoder":
        return comparison_note(this, other, block, None, None)
    codec, quality = this["codec"], this["quality"]
    p_in, p_out = this["input_pixels_per_s"], this["output_pixels_per_s"]
    split = cpu_core_seconds(codec, quality, p_in, p_out, top)[2]
    published = load_video_device(device).published_speedup
    encoders = {e.codec for e in load_software_encoders().encoders if e.quality == quality}
    # a published codec the software rates have no encoder for (a device file's av1) pairs with nothing: it refused the
    # h264 answer it was only a note to ("no software encoder for av1/high", hH66)
    others = [c for c in published if c != codec and c in encoders]
    pair = None
    if others:
        other_split = cpu_core_seconds(others[0], quality, p_in, p_out, top)[2]
        pair = (others[0], block["perf_per_w_ratio"] * sum(other_split) / sum(split), published[others[0]])  # type: ignore[index]
    return comparison_note(this, other, block, split[1] / sum(split), pair)


def estimate_video(device: str, input_video: str = "2160p60", ladder: int | None = None, codec: str = "h264",
                   quality: str = "high", daily_hours: float | None = None,
                   peak_to_average: float = 1.0, baseline: str | None = None,
                   host_power_w: float | None = None) -> VideoEstimate:
    """Streams per device, watts per stream and (with `daily_hours`) the devices a fleet needs.

    `baseline`: another device (a CPU preset, or msvp) priced on the same job and ingest, on platform watts on both
    sides; None takes a video ASIC's catalog `software_baseline` (a CPU: no comparison); "none" skips it.
    `host_power_w`: a fleet-mix or `plan` pool's own host share per device (its `host_power_w`), in place of the
    device file's in the platform power and the notes (hX67: they quoted the file's 40 W beside the pool's figure).
    `ladder`: the output rungs; None encodes the top `DEFAULT_RUNGS` at or below the input, or every rung a lower
    input has (a 480p input: 4); a count the input does not have is refused.
    """
    # "H264" said "msvp does not encode H264" (hF64): a name is refused as one, case-sensitively as the CLI's other
    # choices (--dtype BF16, --cooling LIQUID), with the spelling it takes
    for option, value, known in (("codec", codec, CODECS), ("quality", quality, QUALITIES)):
        if value not in known:
            hint = f"; did you mean {value.lower()}? (lower case)" if value.lower() in known else ""
            raise InputError(f"unknown {option} {value[:64]!r}; known: {', '.join(known)}{hint}")
    if ladder is not None and ladder < 1:
        raise InputError(f"--ladder must be >= 1 rung, got {ladder}")
    if daily_hours is not None and daily_hours < 0:
        raise InputError(f"--daily-hours must be >= 0, got {daily_hours}")
    if peak_to_average < 1:
        raise InputError(f"peak-to-average factor must be >= 1, got {peak_to_average}")
    # the CLI's bounds, one line as it says them (hK66: nan and inf ran; 0 daily hours stays the API's "no demand")
    bounds.FACTOR_AT_LEAST_1.check(peak_to_average, "--peak-to-average")
    if daily_hours is None and peak_to_average != 1.0:  # hN71: it was dropped, rc 0, the answer per device as without
        raise InputError(f"--peak-to-average {peak_to_average:g} sizes the fleet for a daily ingest: add --daily-hours "
                         "(without it the answer is per device, with no fleet to size)")
    if daily_hours:
        bounds.HOURS_PER_DAY.check(daily_hours, "--daily-hours")
    if host_power_w is not None and not 0.0 <= host_power_w <= MAX_HOST_POWER_W:  # nan too (no CLI option)
        raise InputError(f"host_power_w must be 0 to {MAX_HOST_POWER_W:.0e} W per device, got {host_power_w}")
    lad = load_ladder()
    width, height, fps = parse_input(input_video, lad)
    heights, p_in, p_out = _job(lad, width, height, fps, DEFAULT_RUNGS if ladder is None else ladder)
    top = width * height * fps if heights[0] == rung_lines(width, height) else 0.0
    if ladder is not None and len(heights) < ladder:  # was clipped silently: --ladder 50 encoded 8 rungs
        raise InputError(f"--ladder {ladder}: a {input_label(width, height)} input has {len(heights)} "
                         f"{'rung' if len(heights) == 1 else 'rungs'} at or below it "
                         f"({', '.join(f'{h}p' for h in heights)}); ask for at most {len(heights)}")
    if baseline is not None and (baseline == device or same_file(baseline, device)):  # a 1x comparison (hC51)
        raise InputError(f"--baseline {baseline} is the device itself: name what it is compared with, a CPU preset "
                         "(xeon-8480) or another video device, or none")
    asked = baseline  # None: the device file's own software_baseline, if any
    if is_video_device(device):
        r = _asic_streams(device, codec, quality, p_in, p_out, lad, host_power_w)
        if baseline is None:
            baseline = load_video_device(device).software_baseline
            if baseline is None:  # a user's device file without one: no comparison, and a word why (hU60)
                r["notes"] += [(f"no comparison: {r['device']}'s file names no software_baseline; --baseline "
                                      "xeon-8480 (a CPU preset or another video device) prices the same job on it")]
        outside = outside_modes_note(load_video_device(device), lad, width, height, fps, len(heights), r["bound"])
        r["notes"] += [outside] if outside else []
        r["extrapolated"] = outside is not None  # the same fact as a flag in the JSON (hR74)
    else:
        r = _cpu_streams(device, codec, quality, p_in, p_out, top, host_power_w)
    streams = r["streams_per_device"]
    r["notes"] += fractional_note(r["device"], streams)
    r["notes"] += ladder_note(lad, heights, rung_sizes(lad, width, height, heights))
    r.update({
        "input": {"width_px": width, "height_px": height, "fps": fps}, "rungs_px": heights, "codec": codec,
        "quality": quality,
        "input_pixels_per_s": p_in, "output_pixels_per_s": p_out,
        "watts_per_stream": r["power_w"] / streams, "platform_watts_per_stream": r["platform_power_w"] / streams,
        "energy_per_video_hour_j": r["power_w"] / streams * 3600.0,
    })
    if daily_hours is not None:
        needed = daily_hours / 24.0 * peak_to_average
        # at least one device for any ingest, as fleet-mix and plan buy one (hW77: 1e-9 h/day gave 0 devices,
        # 0 W, where fleet-mix bought 1 MSVP); the 1e-9 keeps an exact multiple from rounding up
        devices = max(1, math.ceil(needed / streams - 1e-9)) if needed > 0 else 0
        r["fleet"] = {"daily_hours": daily_hours, "peak_to_average": peak_to_average,
                      "concurrent_streams": needed, "devices": devices,
                      "power_w": devices * r["platform_power_w"],
                      "energy_per_day_j": needed / peak_to_average * r["platform_watts_per_stream"] * SECONDS_PER_DAY}
    other = None
    if baseline is not None and baseline.lower() != "none":
        try:
            other = estimate_video(baseline, input_video, ladder, codec, quality, daily_hours, peak_to_average, "none")
        except InputError as exc:  # hN75: a device file's av1 was refused by its default CPU baseline's encoders
            if asked is not None:
                raise InputError(f"--baseline {baseline} cannot run this job: {exc} (--baseline none: no "
                                 "comparison)") from None
            r["notes"].append(f"no comparison: {r['device']}'s software_baseline {baseline} cannot run this job "
                              f"({exc}); --baseline names another device to compare with")
    if other is not None:
        r["baseline"] = baseline_fields(r, other, device)
        r["notes"] += [n for n in other.notes if n not in r["notes"]]
        r["notes"].append(_comparison_note(r, other, device, top))
    band = error_band(device, None, "video")  # no validation case of video transcoding: no band, said why
    r.update(error_band=band, error_band_basis=band.basis if band else no_band_basis("video"))
    return VideoEstimate.model_validate(r)
