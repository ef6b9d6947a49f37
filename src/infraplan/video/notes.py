"""What a video answer assumes, said in its `notes` (built with the answer in `video.transcode.estimate_video`, so
the CLI, the web page and the Python API show the same lines).

- Each ASSUMPTION figure the answer reads, with its value as used and the reason its file gives (the catalog files'
  `assumptions` maps, catalog/video/{devices/<device>,software-encoders,ladder}.yaml; a CPU socket's host share
  with its accelerator file's `host_source`, cluster/host_share.py), or a fleet-mix or `plan` pool's own
  `host_power_w` where it states one (`POOL_HOST`).
- A job outside a video ASIC's published modes (MSVP: a 3840x2160 input, five outputs, at 15 fps in the high
  mode and 60 fps in the standard mode; Meta MSVP blog, May 2023; Chaudhari et al., SPIE 2023 [V]): a larger
  input, a faster frame rate or more outputs. The source publishes throughput figures only, no hard limit on
  resolution, frame rate or outputs, so such a job is answered, by the pixel-rate extrapolation the source states
  ("scales linearly with resolution"), and noted, not refused.
- Under one real-time stream per device: the fleet and the watts per stream count a stream's work spread over
  several devices (ASSUMPTION: segment-parallel encoding).
- A comparison's basis (platform watts on both sides, the figure fleet power follows; per device watt; per device)
  and, where the device publishes a speed-up against that software encoder, the published ratio beside the
  model's and what the model can say about the gap: the job (the software encode's share of the CPU's core time:
  MSVP's rate scales with output pixels, so where encoding dominates, input and ladder scarcely move the ratio) and
  the codec mix (the other published codec's modelled ratio on the same job, which differs from this one only by
  the CPU's core time per codec, MSVP running both at one rate).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.video_schemas import Ladder, SoftwareEncoder, SoftwareEncoders, VideoAsic
from infraplan.video.results import VideoEstimate

ASIC_FIELDS_READ = ("power_w", "host_power_w", "codecs", "reference_input_height", "reference_outputs",
                    "reference_fps", "decode_pixels_per_s")
"""The device-file fields `infraplan video` reads (`modules_per_host` is fleet-mix's and plan's)."""

POOL_HOST = "the pool's host_power_w"
"""Whose host share a fleet-mix or `plan` pool stating its own `host_power_w` prices (the notes quote it, hX67)."""


def _mpx(pixels_per_s: float) -> str:
    return f"{pixels_per_s / 1e6:.4g} Mpixel/s"


def _rungs(heights: list[int]) -> str:
    return ", ".join(f"{h}p" for h in heights)


def asic_notes(where: str, dev: VideoAsic, ladder: Ladder, quality: str, codec: str, bound: str,
               host_w: float, pool_host: bool = False) -> list[str]:
    """The ASSUMPTION figures of a video ASIC's file that the answer reads, each with its value as used.
    `pool_host`: `host_w` is a fleet pool's own `host_power_w`, said on a line of its own in place of the file's."""
    ref = ladder.rungs(dev.reference_input_height, dev.reference_outputs)
    fps = dev.reference_fps.get(quality, 0.0)  # type: ignore[call-overload]
    capacity = sum(ladder.width(h) * h for h in ref) * fps
    shown = {
        "reference_outputs": f"reference job outputs {_rungs(ref)}",
        "reference_fps": f"{quality} mode {fps:g} fps of that job for {codec} (= {_mpx(capacity)} of output)",
        "decode_pixels_per_s": f"decoder {_mpx(dev.decode_pixels_per_s)} of input"
                               + ("" if bound == "decoder" else " (not binding here)"),
        "host_power_w": f"host share {host_w:.4g} W per module",
    }
    parts = [f"{shown.get(field, f'{field} {getattr(dev, field)}')} [{why}]" for field, why in dev.assumptions.items()
             if field in ASIC_FIELDS_READ and not (pool_host and field == "host_power_w")]
    pool = [f"host share {host_w:.4g} W per {dev.name} module: {POOL_HOST} (the device file's "
            f"{dev.host_power_w:.4g} W not used)"] if pool_host else []
    return [f"ASSUMPTIONS of {dev.name} ({where} `assumptions`): {'; '.join(parts)}"] * bool(parts) + pool


def outside_modes_note(dev: VideoAsic, ladder: Ladder, width: int, height: int, fps: float, outputs: int,
                       bound: str) -> str | None:
    """A note where the job is beyond the device's published modes (input size, frame rate, outputs), else None."""
    ref_h = dev.reference_input_height
    ref_w = ladder.width(ref_h)
    top = max(dev.reference_fps.values())
    above = min(width, height) > ref_h or max(width, height) > ref_w  # either orientation: short and long sides
    over = [f"the {width}x{height} input is above its {ref_w}x{ref_h}"] if above else []
    over += [f"{fps:g} fps is above its {top:g} fps"] if fps > top else []
    over += [f"{outputs} outputs are above its {dev.reference_outputs}"] if outputs > dev.reference_outputs else []
    if not over:
        return None
    modes = ", ".join(f"{q} {f:g} fps" for q, f in dev.reference_fps.items())
    return (f"outside {dev.name}'s published modes ({ref_w}x{ref_h} input, {dev.reference_outputs} outputs, {modes}): "
            f"{', '.join(over)}. The source publishes throughput figures only, no hard limit on resolution, frame rate "
            "or outputs, so the answer extrapolates them in pixels per second, untested this far"
            + ("; it is decoder-bound, on the decoder rate assumed above" if bound == "decoder" else ""))


def cpu_notes(device: str, cores: int, sw: SoftwareEncoders, enc: SoftwareEncoder, decode: float,
              split: tuple[float, float, float], host_w: float, host_source: str) -> list[str]:
    """The software encoders' ASSUMPTION figures on a CPU socket, each with its share of the core time, and the
    socket's host share with its source. `split`: core-seconds of decode, encode and scaling per video second."""
    total = sum(split) or 1.0
    shown = {
        "encoders": (f"{enc.library} {enc.preset} encodes {_mpx(enc.pixels_per_s_per_core)} per core "
                     f"({split[1] / total:.1%} of the core time here)"),
        "decode_pixels_per_s_per_core": f"input decode {_mpx(decode)} per core ({split[0] / total:.1%})",
        "scale_pixels_per_s_per_core": (f"scaling {_mpx(sw.scale_pixels_per_s_per_core)} per core per output "
                                        f"pixel ({split[2] / total:.1%})"),
    }
    parts = [f"{shown[field]} [{why}]" for field, why in sw.assumptions.items() if field in shown]
    notes = [f"ASSUMPTIONS of catalog/video/software-encoders.yaml on {device}'s {cores} cores: {'; '.join(parts)}"
             ] if parts else []
    return [*notes, f"host share {host_w:.4g} W per {device} socket: {host_source}"]


def ladder_note(ladder: Ladder, heights: list[int], sizes: list[tuple[int, int]] | None = None) -> list[str]:
    """The ladder's ASSUMPTION with the rungs encoded (their short sides); `sizes` (width, height) are named where
    they are not the ladder's own 16:9 landscape sizes (a 4:3 or a portrait input)."""
    why = ladder.assumptions.get("rung_heights")
    shown = sizes is not None and any(size != (ladder.width(h), h) for size, h in zip(sizes, heights, strict=True))
    at = f" (short side; {', '.join(f'{w}x{h}' for w, h in sizes or [])} at the input's aspect ratio)" if shown else ""
    return [f"ASSUMPTION (catalog/video/ladder.yaml): output rungs {_rungs(heights)}{at}: {why}"] if why else []


def fractional_note(device: str, streams: float) -> list[str]:
    if streams >= 1:
        return []
    return [f"{device} transcodes this job at {streams:.3g}x real time, under one stream: the fleet and the watts per "
            "stream count a stream's segments encoded on several devices in parallel (ASSUMPTION: segment-parallel "
            "encoding)"]


def comparison_note(this: dict[str, Any], other: VideoEstimate, block: dict[str, Any],
                    encode_share: float | None, other_codec: tuple[str, float, float] | None) -> str:
    """The comparison's basis and, with a published ratio, the model's beside it and what it can say of the gap.

    `encode_share`: the software encode's share of the CPU's core time where the device's rate scales with output
    pixels (an encoder-bound ASIC), else None; `other_codec`: (codec, modelled ratio per platform watt on this job,
    its published ratio) for the device's other published codec, or None."""
    ppw, dpw, spd = block["perf_per_w_ratio"], block["device_perf_per_w_ratio"], block["streams_per_device_ratio"]
    text = (f"compared per platform watt, each side with its host share ({this['power_w']:.4g} + "
            f"{this['host_power_w']:.4g} W against {other.power_w:.4g} + {other.host_power_w:.4g} W), the basis fleet "
            f"power follows: {this['device']} {ppw:.3g}x {other.device}; per device watt (no hosts) {dpw:.3g}x; "
            f"per device (one against one) {spd:.3g}x")
    published = block.get("published_ratio")
    if published is None:
        if this["kind"] != "video-asic" or other.kind != "cpu":
            return text
        return text + (f" (no published ratio for the {this['quality']} mode: the source compares the highest-quality"
                       " mode)" if this["quality"] != "high" else f" (no published ratio for {this['codec']})")
    gap = ppw / published
    text += (f". Published: ~{published:g}x per watt at on-par quality, its CPU, preset, job and watts counted "
             f"unpublished (baseline.published_basis); the model is {gap:.2f}x it per platform watt, "
             f"{dpw / published:.2f}x per device watt, {spd / published:.2f}x per device: no basis matches")
    if encode_share is not None:
        text += (f". Not the job: the software encode is {encode_share:.1%} of the CPU's core time and "
                 f"{this['device']}'s rate scales with output pixels, so input and ladder scarcely move the ratio")
    if other_codec is not None:
        codec, ratio, pub = other_codec
        text += f". Not the codec: {codec} on the same job is {ratio / pub:.2f}x its ~{pub:g}x ({ratio:.3g}x)"
    return text + (f". What is left: the published ratio implies a CPU side {gap:.2f}x as efficient per watt as the "
                   "model's, i.e. the ASSUMPTION per-core rates above or the source's unpublished power basis")
