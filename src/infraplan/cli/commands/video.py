"""`infraplan video`: transcoding on MSVP or CPU software encoders: streams per device, W per stream, fleet."""

from __future__ import annotations

import typer

from infraplan.catalog.video_schemas import CODECS, QUALITIES
from infraplan.cli.commands._output import band_line, console, emit, fmt_num, fmt_rate, metric_table, print_band
from infraplan.cli.options import FACTOR_AT_LEAST_1, HOURS_PER_DAY, JsonFlag, count
from infraplan.video.results import VideoEstimate
from infraplan.video.transcode import estimate_video


def render_video(r: VideoEstimate) -> None:
    i = r.input
    rungs = ", ".join(f"{h}p" for h in r.rungs_px)
    table = metric_table(f"{i.width_px}x{i.height_px} at {fmt_num(i.fps)} fps -> {rungs} ({r.codec}, {r.quality}) "
                         f"on {r.device}")
    table.add_row("encoder", r.encoder)
    table.add_row("pixels in / out", f"{fmt_rate(r.input_pixels_per_s, 'pixel/s')} / "
                  f"{fmt_rate(r.output_pixels_per_s, 'pixel/s')}")
    table.add_row("real-time streams per device", f"{fmt_num(r.streams_per_device, 4)} (bound: {r.bound})")
    table.add_row("device power", f"{fmt_num(r.power_w, 4)} W")
    table.add_row("platform power", f"{fmt_num(r.platform_power_w, 4)} W: {r.basis}")
    table.add_row("watts per stream", f"{fmt_num(r.watts_per_stream, 4)} W "
                  f"(platform {fmt_num(r.platform_watts_per_stream, 4)} W)")
    table.add_row("energy per hour of video", f"{fmt_rate(r.energy_per_video_hour_j / 3600.0, 'Wh')} (platform "
                  f"{fmt_rate(r.platform_watts_per_stream, 'Wh')})")
    if r.fleet is not None:
        f = r.fleet
        table.add_row("fleet for daily ingest", f"{fmt_num(f.daily_hours, 4)} h/day -> "
                      f"{fmt_num(f.concurrent_streams, 4)} streams -> {f.devices:,} devices, "
                      f"{fmt_rate(f.power_w, 'W')} (platform)")
    v = r.baseline
    if v is not None:
        table.add_row(f"vs {v.device}", f"{v.encoder}: {fmt_num(v.streams_per_device, 4)} streams per device, "
                      f"platform {fmt_num(v.platform_watts_per_stream, 4)} W per stream ({v.basis})")
        hostless = [d for d, host in ((r.device, r.host_power_w > 0),
                                      (v.device, v.platform_watts_per_stream > v.watts_per_stream)) if not host]
        basis = ("like for like" if len(hostless) != 1 else  # a file without host_power_w against a CPU (hU50)
                 f"not like for like: {hostless[0]} has no host share")
        table.add_row("  ratio (this / other)", f"{fmt_num(v.perf_per_w_ratio, 3)}x streams per platform W "
                      f"({basis}); {fmt_num(v.device_perf_per_w_ratio, 3)}x per device W (no hosts); "
                      f"{fmt_num(v.streams_per_device_ratio, 3)}x streams per device (one {r.device} against "
                      f"one {v.device})")
        if v.published_ratio is not None:
            table.add_row("  published", f"~{fmt_num(v.published_ratio, 3)}x per watt at on-par quality, power "
                          "basis, CPU, preset and resolution unpublished (baseline.published_basis)")
        if v.fleet_device_count is not None and v.fleet_power_w is not None and v.fleet_power_saving_w is not None:
            verb = "saves" if v.fleet_power_saving_w >= 0 else "needs"
            table.add_row("  fleet saving", f"{v.fleet_device_count:,} {v.device} -> {fmt_rate(v.fleet_power_w, 'W')}; "
                          f"{r.device} {verb} {fmt_rate(abs(v.fleet_power_saving_w), 'W')}"
                          f"{'' if verb == 'saves' else ' more'} (platform on both sides)")
    console.print(table)
    for note in r.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    print_band(band_line(r.error_band, "streams per device") if r.error_band
               else f"error band: none ({r.error_band_basis})")


def _check_device(device: str) -> None:
    """An unknown --device names the devices video runs on (it listed every accelerator preset, without msvp)."""
    from difflib import get_close_matches

    from infraplan.catalog.inference_loader import is_video_device
    from infraplan.catalog.loader import list_presets, load_accelerator, looks_like_path
    from infraplan.errors import InputError

    accelerators = list_presets("accelerators")
    if looks_like_path(device) or is_video_device(device) or device in accelerators:
        return
    known = [*list_presets("video/devices"), *(a for a in accelerators if load_accelerator(a).kind == "cpu")]
    close = get_close_matches(device, known, n=2)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise InputError(f"unknown video device {device[:64]!r}; {hint}video runs on {', '.join(known)} (or a device "
                     "YAML file)")


def video(
    device: str = typer.Option(..., "--device",
                                help="msvp, or a CPU preset (xeon-8480, epyc-9654), or a device YAML"),
    input_video: str = typer.Option("2160p60", "--input", help="input [WIDTHx]HEIGHTp[FPS], e.g. 2160p60, 1080p (30 "
                                    "fps) or 1080x1920p30 (portrait: laddered on its short side, as 1080p)"),
    ladder: int | None = typer.Option(None, "--ladder", parser=count(1, 100), show_default=False,
                                      help="output rungs (top N of the ladder at or below the input) [default: 5, "
                                      "or every rung a lower input has]"),
    codec: str = typer.Option("h264", "--codec", help=" | ".join(CODECS)),  # the catalog's (hE65: "h264 | vp9")
    quality: str = typer.Option("high", "--quality", help=" | ".join(QUALITIES)),
    daily_hours: float | None = typer.Option(None, "--daily-hours", parser=HOURS_PER_DAY,
                                             help="hours of video ingested per day"),
    peak: float = typer.Option(1.0, "--peak-to-average", parser=FACTOR_AT_LEAST_1,
                               help="fleet sizing factor over the daily average"),
    baseline: str | None = typer.Option(None, "--baseline", help="compare with another device (a preset or a device "
                                      "YAML) on platform watts "
                                      "(default for msvp: its catalog CPU baseline, xeon-8480; 'none': no comparison)"),
    as_json: JsonFlag = False,
) -> None:
    """Video transcoding: real-time streams per device, watts per stream and devices for a daily ingest."""
    _check_device(device)
    if baseline is not None and baseline.lower() != "none":
        _check_device(baseline)
    emit(estimate_video(device, input_video, ladder, codec, quality, daily_hours, peak, baseline), as_json,
         render_video)


def register(app: typer.Typer) -> None:
    app.command("video")(video)
