"""A pool's per-device capacity for a recommendation or video service: what fleet-mix's programme and `plan`'s
(planning/scenario_sizing.py) count per device of a pool serving one service, and why a pool cannot serve it.

- recsys: `recsys.estimate.estimate_recsys` (the recommendation model on the device: QPS at the best batch meeting
  the latency SLO, or under `recsys.queueing.P99_UNDER_LOAD` the highest Poisson rate whose p99 meets it; batch 1
  missing it excludes the pool), with its `figures_note` lines but the two the pool's own
  lines say (the part's figures' standing, its host share: `recsys.estimate.pool_notes`) as `notes`;
- video: `video.transcode.estimate_video` (real-time streams per device of the ladder on a video ASIC or CPU; a
  GPU has no video encoder modelled: A100 and H100 have no NVENC), with its `notes` (video/notes.py: what the
  capacity assumes; not the comparison `video` adds, `baseline="none"`).
Fleet-mix and `plan` say either service's `notes` in theirs through `labelled_notes`.
The power and money of the devices are the pool's (planning/fleet_pool_money.py, planning/pool_money.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infraplan.catalog.inference_loader import is_video_device
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning.fields_read import spec_words
from infraplan.planning.fleet_spec import PoolSpec
from infraplan.planning.scenario_spec import InferenceServiceSpec
from infraplan.recsys.estimate import estimate_recsys, pool_notes
from infraplan.video.transcode import estimate_video


def device_kind(pool: PoolSpec) -> str:
    """The pool's device kind: 'video-asic', or the accelerator's kind ('gpu', 'cpu', ...)."""
    return "video-asic" if is_video_device(pool.device) else Cluster.resolve(pool.device).accelerator.kind


def pool_option(service: InferenceServiceSpec, pool: PoolSpec) -> dict[str, Any]:
    """Per-device capacity and operating point of `pool` serving `service` (fleet-mix's or a scenario's), or
    {'reason': why not}; its power and money are the pool's (`fleet_pool_money.per_device_costs`)."""
    kind = device_kind(pool)
    if service.kind == "recsys":
        if kind == "video-asic":
            return {"reason": f"{pool.device} is a video transcoder"}
        try:
            # the pool's accelerator: a system preset's (`mtia-400-rack`) as well as an accelerator's (hU54)
            accelerator = Cluster.resolve(pool.device).accelerator
            r = estimate_recsys(service.model, accelerator, latency_slo_s=service.latency_slo)  # type: ignore[arg-type]
        except InputError as exc:
            return {"reason": spec_words(str(exc), service)}
        if not r.meets_slo:
            return {"reason": f"latency {r.latency_s * 1e3:.3g} ms at batch 1 exceeds the SLO "
                              f"{service.latency_slo * 1e3:.3g} ms"}  # type: ignore[operator]
        latency = r.latency_s if r.p99_latency_s is None else r.p99_latency_s  # what the SLO bounds (the p99
        return {"capacity": r.qps, "unit": "qps", "detail": {"batch": r.batch, "latency_s": latency,  # under load:
                                                             "bound": r.bound},  # recsys/queueing.py)
                "notes": pool_notes(service.model, accelerator, r.dtype)}  # type: ignore[arg-type]
    if kind not in ("video-asic", "cpu"):
        nvenc = " (A100 and H100 have no NVENC)" if kind == "gpu" else ""
        return {"reason": f"{pool.device} ({kind}) has no video encoder modelled{nvenc}"}
    try:
        v = estimate_video(pool.device, service.input, service.ladder, service.codec, service.quality,
                           baseline="none",  # the pool's capacity: no device-against-CPU comparison
                           host_power_w=pool.host_power_w)  # its notes quote the pool's host share where it has one
    except InputError as exc:
        return {"reason": spec_words(str(exc), service)}
    return {"capacity": v.streams_per_device, "unit": "streams", "detail": {"encoder": v.encoder, "bound": v.bound},
            "notes": v.notes}


def labelled_notes(pairs: Iterable[tuple[str, str, Iterable[str]]]) -> list[str]:
    """(service, pool, notes) of the pairs an answer uses as its lines: each note once, after every pair it holds
    for ("ingest on msvp, clips on msvp: ..."), in the order first met (fleet-mix's and `plan`'s `notes`)."""
    where: dict[str, list[str]] = {}
    for service, pool, notes in pairs:
        for note in notes:
            labels = where.setdefault(note, [])
            labels += [] if f"{service} on {pool}" in labels else [f"{service} on {pool}"]
    return [f"{', '.join(labels)}: {note}" for note, labels in where.items()]
