"""Mutation wave hM23 (session 45) on the video answer's baseline comparison (video/transcode.py, hH47): what the
`comparison` names and where a published speed-up applies (the MSVP sources compare MSVP's highest-quality mode
against software encoders on CPUs only: Meta MSVP blog, May 2023)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from infraplan.video.transcode import estimate_video


def _baseline(*args: Any, **kwargs: Any) -> Any:
    b = estimate_video(*args, **kwargs).baseline
    assert b is not None
    return b


def test_the_comparison_names_the_quality_mode_and_the_ladder() -> None:
    b = _baseline("msvp", "2160p60", 5, "h264", "high")
    assert "high quality" in b.comparison and "5 rungs" in b.comparison
    assert "standard quality" in _baseline("msvp", "1080p30", 3, "h264", "standard").comparison


def test_no_published_figure_against_another_asic_or_between_cpus(tmp_path: Path) -> None:
    other = tmp_path / "msvp-2.yaml"  # another ASIC (msvp against itself is refused since hC51)
    other.write_text((resources.files("infraplan.catalog") / "video" / "devices" / "msvp.yaml").read_text())
    against_another = _baseline("msvp", "2160p60", 5, "h264", "high", baseline=str(other))
    assert against_another.published_ratio is None and against_another.published_basis is None
    cpus = _baseline("xeon-8480", "2160p60", 5, "h264", "high", baseline="epyc-9654")
    assert cpus.published_ratio is None and cpus.published_basis is None
