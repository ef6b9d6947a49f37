"""`serve` of an image workload runs the length its p99 needs (hI45, session 43): the relaxation rule `plan`'s image
probes use (`serving.image_steady_state`), at the run's utilisation, when --requests is not given.

Before, `serve` sent 2,000 images whatever the load: at an H100's plan capacity (17.58 images/s, batch 16) it read
p99 2.09 s where plan's 54,313-image probe (and a 100,000-image run) read 4.67 s against a 5 s SLO.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from tests.cli.conftest import cli_json

import infraplan.planning.image_capacity as ic
from infraplan.cli import main
from infraplan.serving import image_steady_state as iss
from infraplan.serving.serving_api import estimate_serving

SYSTEM = "dgx-h100-superpod"
IMAGE = ["serve", "sd-v1.5-512", "--system", SYSTEM, "--workload", "image-generation"]


def _serve(gpus: int, rate: float, **kw: Any) -> dict[str, Any]:
    r = estimate_serving("sd-v1.5-512", SYSTEM, gpus, workload="image-generation", rate=rate, **kw)
    return r.model_dump()


@pytest.fixture(scope="module")
def offline_h100() -> float:
    """One H100's offline images/s at batch 16 from `serve --offline` over 1,000 images (every one at t = 0)."""
    r = estimate_serving("sd-v1.5-512", SYSTEM, 1, workload="image-generation", offline=True, requests=1000)
    assert r.images_per_s is not None
    return float(r.images_per_s)


def _hand_rule(rho: float, ca2: float = 1.0, held: int = 16) -> int:
    """60 x c_a^2 rho^2 / (1 - rho)^2 images, at least 10,000 and 4 x the images held at once (the brief's rule)."""
    return max(10_000, 4 * held, math.ceil(60.0 * ca2 * rho**2 / (1.0 - rho) ** 2))


def test_serve_at_plan_s_capacity_reports_plan_s_p99() -> None:
    """`serve` at plan's H100 capacity and batch cap, no --requests: the probe's length and seed, so plan's p99
    (over the probe's steady window) to 1 %, within the SLO; the 2,000-image run of before read half of it."""
    cap = ic.image_capacity(ic.DEFAULT_IMAGE_WORKLOAD, None, SYSTEM, None)
    assert isinstance(cap, ic.ImageCapacity)
    got = _serve(1, cap.images_per_s, max_batch=cap.max_batch)
    assert got["requests"] == cap.probe_images
    p99 = got["e2e_s"]["p99"]
    assert p99 == pytest.approx(cap.p99_latency_s, rel=0.01) and p99 <= cap.slo_s
    short = _serve(1, cap.images_per_s, max_batch=cap.max_batch, requests=2000)
    assert short["e2e_s"]["p99"] < 0.6 * cap.p99_latency_s


@pytest.mark.parametrize("share", [0.3, 0.9, 0.968])
def test_the_default_length_follows_the_rule(offline_h100: float, share: float) -> None:
    """At a share of the offline rate the run sends the hand-computed rule's images (0.3, 0.9: the 10,000 floor;
    0.968: 54k, the relaxation) and its note says how many and at which utilisation."""
    got = _serve(1, share * offline_h100)
    assert got["requests"] == _hand_rule(share)
    assert got["offline_images_per_s"] == pytest.approx(offline_h100)
    (note,) = got["notes"]
    assert f"{_hand_rule(share):,} images" in note and f"utilisation {share:.3f}" in note
    assert ("relaxation" in note) == (_hand_rule(share) > 10_000)
    assert got["warnings"] == []


def test_burstier_arrivals_need_a_longer_run(offline_h100: float, tmp_path) -> None:
    """Gamma arrivals of c_a = 2 at 0.9 of the offline rate: c_a^2 = 4 x the Poisson relaxation (4,860 -> 19,440
    images, above the floor)."""
    path = tmp_path / "bursty.yaml"
    path.write_text("display_name: bursty images\nsource: test\nkind: diffusion\ndiffusion_model: sd-v1.5-512\n"
                    "steps: 25\narrival: {process: gamma, cv: 2.0}\ne2e_slo_s: 5.0\n")
    r = estimate_serving("sd-v1.5-512", SYSTEM, 1, workload=str(path), rate=0.9 * offline_h100)
    assert r.requests == _hand_rule(0.9, ca2=4.0) and abs(r.requests - 19_440) <= 1  # ceil of 19,440 + rounding


def test_several_accelerators_take_the_single_queue_s_count(offline_h100: float) -> None:
    """Round-robin over k accelerators: each sees c_a^2 / k at the same utilisation, so the k together need the
    single queue's images (relaxation) and k x 4 x the batch cap (the floor)."""
    one, eight = _serve(1, 0.97 * offline_h100), _serve(8, 8 * 0.97 * offline_h100)
    assert eight["requests"] == one["requests"] == _hand_rule(0.97)
    wide = _serve(200, 0.5 * 200 * offline_h100)  # 4 x 200 x 16 = 12,800 held-images floor above 10,000
    assert wide["requests"] == 4 * 200 * 16 and "holds at once" in wide["notes"][0]


def test_near_and_past_saturation_run_the_longest_run_and_say_why(offline_h100: float) -> None:
    """Above top_utilisation (0.983) the rule needs more than 200,000 images: the run is capped there, as plan
    caps its probes, and says the p99 may still read low; past the offline rate it says the queue never settles."""
    near = _serve(1, 0.99 * offline_h100)
    assert near["requests"] == iss.MAX_PROBE_IMAGES and "may still read low" in near["notes"][0]
    over = _serve(1, 1.05 * offline_h100)
    assert over["requests"] == iss.MAX_PROBE_IMAGES and "never settles" in over["notes"][0]


def test_requests_wins_and_a_short_one_is_warned_once(capsys: pytest.CaptureFixture[str],
                                                      offline_h100: float) -> None:
    """--requests sets the length (no note); one shorter than the rule gets one warning naming the length the p99
    needs; one at least as long, none; offline runs keep the 2,000-image default."""
    rate = f"{0.968 * offline_h100:.4f}"
    need = _hand_rule(float(rate) / offline_h100)
    short = cli_json(capsys, [*IMAGE, "--gpus", "1", "--rate", rate, "--requests", "3000"])
    assert short["requests"] == 3000 and short["notes"] == []
    assert [w for w in short["warnings"] if "shorter" in w] == short["warnings"]
    assert len(short["warnings"]) == 1 and f"{need:,} images" in short["warnings"][0]
    long = cli_json(capsys, [*IMAGE, "--gpus", "1", "--rate", rate, "--requests", str(need)])
    assert long["requests"] == need and long["warnings"] == []
    offline = cli_json(capsys, [*IMAGE, "--gpus", "1", "--offline"])
    assert offline["requests"] == 2000 and offline["notes"] == []
    capsys.readouterr()
    assert main([*IMAGE, "--gpus", "1", "--rate", rate, "--requests", "3000"]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: --requests 3,000 is shorter") == 1
    assert main([*IMAGE, "--gpus", "1", "--rate", rate]) == 0
    assert f"note: simulated {need:,} images" in capsys.readouterr().out


def test_plan_s_probe_rule_is_serving_s() -> None:
    """One rule: planning takes the probe length and its upper end from serving (arrows point down)."""
    assert ic.probe_images is iss.probe_images and ic.top_utilisation is iss.top_utilisation
    assert iss.top_utilisation() == pytest.approx(1.0 / (1.0 + math.sqrt(60.0 / 200_000)))
