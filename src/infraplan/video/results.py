"""Typed result of `infraplan video` (`video.transcode.estimate_video`): transcoding on MSVP or CPU encoders.

Field names are the JSON `--json` has always printed; power in watts, energy in joules, rates per second.
CPU devices add `cores` and `core_seconds_per_video_second`; `--daily-hours` adds `fleet`; a comparison
(`--baseline`, by default a video ASIC's catalog software baseline) adds `baseline`, on platform watts on both sides.
"""

from __future__ import annotations

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result, SparseResult


class VideoInput(Result):
    """The source video."""

    width_px: int = Field(description="width, pixels (was `width` before hV77)")
    height_px: int = Field(description="height, pixels (was `height` before hV77)")
    fps: float = Field(description="frames per second")


class VideoFleet(Result):
    """Devices for a daily ingest of video hours."""

    daily_hours: float = Field(description="hours of video ingested per day")
    peak_to_average: float = Field(description="peak over average ingest (ratio)")
    concurrent_streams: float = Field(description="real-time streams at peak (count)")
    devices: int = Field(description="devices needed (count)")
    power_w: float = Field(description="platform watts of the fleet")
    energy_per_day_j: float = Field(description="joules per day")


class VideoBaseline(SparseResult):
    """The same job on another device, compared on a like-for-like basis: platform watts (device plus its host
    share) on both sides; the device-only ratio is printed beside it, labelled."""

    device: str = Field(description="the other device")
    encoder: str = Field(description="the other device's encoder")
    basis: str = Field(description="what the other device's platform watts include")
    streams_per_device: float = Field(description="the other device's real-time streams per device")
    watts_per_stream: float = Field(description="the other device's watts per stream, device alone")
    platform_watts_per_stream: float = Field(description="the other device's platform watts per stream")
    perf_per_w_ratio: float = Field(description="streams per platform watt, this device / the other (ratio; hosts "
                                                "on both sides)")
    device_perf_per_w_ratio: float = Field(description="streams per device watt, this device / the other (ratio; "
                                                       "no host on either side)")
    streams_per_device_ratio: float = Field(description="real-time streams per device, this device / the other "
                                                       "(ratio; per chip: one module against one CPU socket)")
    comparison: str = Field(description="what is compared: codec, quality mode, each side's encoder (library, preset, "
                                        "cores) and the watts its platform figure counts")
    published_ratio: float | None = Field(None, description="the device's published speed-up over this software "
                                          "encoder (ratio; catalog `published_speedup`), for the highest-quality "
                                          "mode against a CPU; null: none published for this pairing")
    published_basis: str | None = Field(None, description="what the published ratio compares and what of its basis "
                                        "is unpublished")
    fleet_device_count: int | None = Field(None, description="the other device's fleet for the same ingest (count)")
    fleet_power_w: float | None = Field(None, description="the other fleet's platform watts")
    fleet_power_saving_w: float | None = Field(None, description="the other fleet's platform watts minus this one's")
    energy_saving_per_day_j: float | None = Field(None, description="platform joules per day saved")


class VideoEstimate(SparseResult):
    """Real-time streams per device, watts per stream and (optionally) the fleet."""

    device: str = Field(description="device name")
    kind: str = Field(description="video-asic | cpu")
    streams_per_device: float = Field(description="real-time streams per device")
    bound: str = Field(description="encoder | decoder | cores")
    power_w: float = Field(description="device watts")
    platform_power_w: float = Field(description="device plus host watts")
    host_power_w: float = Field(description="host share per device, watts (in platform_power_w)")
    basis: str = Field(description="what the platform watts include")
    encoder: str = Field(description="encoder used")
    cores: int | None = Field(None, description="CPU cores (CPU devices)")
    core_seconds_per_video_second: float | None = Field(None, description="CPU core-seconds per video second")
    input: VideoInput = Field(description="the source video")
    rungs_px: list[int] = Field(description="output ladder rungs, each its short side in pixels (its p-number: 720 "
                                "for 1280x720 and for a portrait 720x1280; was `rungs` before hV77)")
    codec: str = Field(description="output codec")
    quality: str = Field(description="encoder quality mode")
    input_pixels_per_s: float = Field(description="decoded pixels per second")
    output_pixels_per_s: float = Field(description="encoded pixels per second")
    watts_per_stream: float = Field(description="device watts per stream")
    platform_watts_per_stream: float = Field(description="platform watts per stream")
    energy_per_video_hour_j: float = Field(description="device joules per hour of video")
    fleet: VideoFleet | None = Field(None, description="devices for the daily ingest")
    baseline: VideoBaseline | None = Field(None, description="the same job and ingest on another device")
    extrapolated: bool | None = Field(None, description="a video ASIC's answer: true where the job is beyond the "
                                      "device's published modes (input size, frame rate or outputs: MSVP's above "
                                      "3840x2160 or 60 fps), its figures extrapolated in pixels per second (a note "
                                      "says which); null for a CPU")
    notes: list[str] = Field(default_factory=list, description="what the answer assumes and leaves out: each "
                             "ASSUMPTION figure it reads (device file, software encoder rates, host shares, ladder), "
                             "an input outside a video ASIC's published modes, under one stream per device, the "
                             "comparison's basis with the published ratio beside the model's and what explains the "
                             "gap; no `baseline` where a video device file names no software_baseline and no "
                             "--baseline is given (video/notes.py)")
    error_band: ErrorBand | None = Field(None, description="expected relative error of streams per device; null: "
                                         "no band, `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from, or why there is none")
