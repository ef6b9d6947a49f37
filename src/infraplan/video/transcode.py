"""Video transcoding on a fixed-function ASIC (MSVP) or CPU software encoders: streams per device, watts per
stream, and the devices a fleet needs to ingest H hours of video per day.

A job decodes one input (W x H at F fps) and encodes the top N rungs of the ladder at the input frame rate
(SIMO). Work is in pixels per second: input pixels P_in = W H F, output pixels P_out = sum of the rungs.

- ASIC (MSVP): encoder capacity = reference_fps[quality] x (output pixels of the reference 5-rung 4K job),
  since throughput "scales linearly with resolution" (Meta MSVP blog, May 2023; SPIE 2023);
  streams = min(encoder capacity / P_out, decoder capacity / P_in).
- CPU socket (software, FFmpeg + libx264 / libvpx-vp9): core-seconds per second of video =
  P_in / decode rate + P_out / encode rate + (P_out - top rung) / scale rate, per-core rates as catalog data;
  streams = cores / core-seconds.

A stream here is one real-time transcode (one second of video per second). Ingesting H hours per day needs
H / 24 streams on average (the peak-to-average factor multiplies it). Power: the ASIC's module power or the
socket's TDP, at full load; `platform_power_w` adds the host share.
"""

from __future__ import annotations

import math
import re

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import is_video_device, load_ladder, load_software_encoders, load_video_device
from infraplan.catalog.video_schemas import QUALITIES, Ladder
from infraplan.errors import InputError
from infraplan.video.results import VideoEstimate

_INPUT = re.compile(r"\s*(?:(\d+)x)?(\d+)p(\d+(?:\.\d+)?)?\s*")
SECONDS_PER_DAY = 86400.0


def parse_input(text: str, ladder: Ladder) -> tuple[int, int, float]:
    """'2160p60' -> (3840, 2160, 60.0); '1080p' -> 30 fps; '1920x1080p30' gives the width explicitly."""
    match = _INPUT.fullmatch(str(text))
    if not match:
        raise InputError(f"cannot read video input {text!r}; expected e.g. 2160p60, 1080p30 or 1920x1080p30")
    height = int(match.group(2))
    width = int(match.group(1)) if match.group(1) else ladder.width(height)
    fps = float(match.group(3)) if match.group(3) else 30.0
    if not 16 <= height <= 8640 or not 16 <= width <= 15360 or not 0 < fps <= 240:
        raise InputError(f"video input {text!r} out of range (16 <= height <= 8640 (16K), width <= 15360, "
                         f"0 < fps <= 240)")
    return width, height, fps


def _job(ladder: Ladder, width: int, height: int, fps: float, rungs: int) -> tuple[list[int], float, float]:
    heights = ladder.rungs(height, rungs)
    scale = width / ladder.width(height)  # keep the input's aspect ratio on every rung
    out = sum(ladder.width(h) * scale * h for h in heights) * fps
    return heights, width * height * fps, out


def _asic_streams(device_ref: str, codec: str, quality: str, p_in: float, p_out: float, ladder: Ladder) -> dict:
    dev = load_video_device(device_ref)
    if codec not in dev.codecs:
        raise InputError(f"{dev.name} does not encode {codec}; it encodes {', '.join(dev.codecs)}")
    if quality not in dev.reference_fps:
        raise InputError(f"{dev.name} has no {quality!r} mode; known: {', '.join(dev.reference_fps)}")
    ref_heights = ladder.rungs(dev.reference_input_height, dev.reference_outputs)
    ref_out = sum(ladder.width(h) * h for h in ref_heights) * dev.reference_fps[quality]  # type: ignore[index]
    enc, dec = ref_out / p_out, dev.decode_pixels_per_s / p_in
    return {"device": dev.name, "kind": dev.kind, "streams_per_device": min(enc, dec),
            "bound": "encoder" if enc <= dec else "decoder", "power_w": dev.power_w,
            "platform_power_w": dev.power_w + dev.host_power_w, "encoder": f"{dev.name} ({quality} mode)"}


def _cpu_streams(cpu_ref: str, codec: str, quality: str, p_in: float, p_out: float, top: float) -> dict:
    acc = load_accelerator(cpu_ref)
    if acc.kind != "cpu":
        kind = acc.kind.upper()  # asic, gpu, tpu: "an ASIC", "a GPU"
        raise InputError(f"{acc.name} is {'an' if kind[0] in 'AEIOU' else 'a'} {kind}, not a CPU or a video ASIC: "
                         "video runs on msvp or a CPU (A100/H100 have no NVENC video encoder)")
    sw = load_software_encoders()
    enc = sw.encoder(codec, quality)
    decode = sw.decode_pixels_per_s_per_core.get("h264") or min(sw.decode_pixels_per_s_per_core.values())
    core_s = p_in / decode + p_out / enc.pixels_per_s_per_core + (p_out - top) / sw.scale_pixels_per_s_per_core
    cores = acc.efficiency.compute_units
    return {"device": acc.name, "kind": "cpu", "streams_per_device": cores / core_s, "bound": "cores",
            "power_w": acc.tdp_w, "platform_power_w": acc.tdp_w + sw.host_power_w_per_socket,
            "encoder": f"{enc.library} {enc.preset} on {cores} cores", "cores": cores,
            "core_seconds_per_video_second": core_s}


def estimate_video(device: str, input_video: str = "2160p60", ladder: int = 5, codec: str = "h264",
                   quality: str = "high", daily_hours: float | None = None,
                   peak_to_average: float = 1.0) -> VideoEstimate:
    """Streams per device, watts per stream and (with `daily_hours`) the devices a fleet needs."""
    if quality not in QUALITIES:
        raise InputError(f"unknown quality {quality!r}; known: {', '.join(QUALITIES)}")
    if ladder < 1:
        raise InputError(f"--ladder must be >= 1 rung, got {ladder}")
    if daily_hours is not None and daily_hours < 0:
        raise InputError(f"--daily-hours must be >= 0, got {daily_hours}")
    if peak_to_average < 1:
        raise InputError(f"peak-to-average factor must be >= 1, got {peak_to_average}")
    lad = load_ladder()
    width, height, fps = parse_input(input_video, lad)
    heights, p_in, p_out = _job(lad, width, height, fps, ladder)
    if len(heights) < ladder:  # was clipped silently: --ladder 50 encoded 8 rungs
        raise InputError(f"--ladder {ladder}: a {height}p input has {len(heights)} rungs at or below it "
                         f"({', '.join(f'{h}p' for h in heights)}); ask for at most {len(heights)}")
    if is_video_device(device):
        r = _asic_streams(device, codec, quality, p_in, p_out, lad)
    else:
        top = width * height * fps if heights[0] == height else 0.0
        r = _cpu_streams(device, codec, quality, p_in, p_out, top)
    streams = r["streams_per_device"]
    r.update({
        "input": {"width": width, "height": height, "fps": fps}, "rungs": heights, "codec": codec, "quality": quality,
        "input_pixels_per_s": p_in, "output_pixels_per_s": p_out,
        "watts_per_stream": r["power_w"] / streams, "platform_watts_per_stream": r["platform_power_w"] / streams,
        "energy_per_video_hour_j": r["power_w"] / streams * 3600.0,
    })
    if daily_hours is not None:
        needed = daily_hours / 24.0 * peak_to_average
        devices = math.ceil(needed / streams - 1e-9) if needed > 0 else 0
        r["fleet"] = {"daily_hours": daily_hours, "peak_to_average": peak_to_average,
                      "concurrent_streams": needed, "devices": devices,
                      "power_w": devices * r["platform_power_w"],
                      "energy_per_day_j": needed / peak_to_average * r["platform_watts_per_stream"] * SECONDS_PER_DAY}
    return VideoEstimate.model_validate(r)
