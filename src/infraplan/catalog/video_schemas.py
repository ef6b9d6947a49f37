"""Catalog schemas for video transcoding: fixed-function transcoders (MSVP), software encoders, the ladder.

A transcoding job decodes one input and encodes every rung of an adaptive-bitrate ladder (SIMO: single
input, multiple outputs). Work is counted in pixels per second, because MSVP's published throughput
"scales linearly with resolution" (Meta MSVP blog, May 2023; SPIE 2023 "Efficient video processing at
scale using MSVP") and software encoders' per-core speed is, to first order, pixels per second at a preset.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator

from infraplan.catalog.file_checks import RackUnits, Watts
from infraplan.catalog.schemas import Spec
from infraplan.errors import InputError

Codec = Literal["h264", "vp9", "hevc", "av1"]
Quality = Literal["standard", "high"]
QUALITIES: tuple[str, ...] = ("standard", "high")
CODECS: tuple[str, ...] = get_args(Codec)
"""The codec names a device or encoder file may list, as `video --codec` takes them (lower case, as every choice of
the CLI: --dtype, --sim, --cooling ...)."""
ASSUMPTIONS_DESCRIPTION = ("the file's ASSUMPTION figures: field name -> why it is assumed (no measurement or "
                           "publication gives it); `infraplan video` names each one it uses in the answer's notes")
NAMES_SHOWN = 5  # the unknown `assumptions` names a refusal lists (`_assumed_fields`)


def _assumed_fields(spec: Spec, assumptions: dict[str, str]) -> None:
    """An `assumptions` entry names a field of its file and says why, in words. The refusal names at most
    NAMES_SHOWN of the unknown names, an empty or padded one quoted (hH63: 20,000 unknown keys made a 149 kB line, an
    empty key an invisible name), and the entry without a reason."""
    unknown = sorted(set(assumptions) - set(type(spec).model_fields) - {"assumptions"})
    if unknown:
        shown = ", ".join(k if k and k.strip() == k else repr(k) for k in unknown[:NAMES_SHOWN])
        more = f" and {len(unknown) - NAMES_SHOWN:,} more" if len(unknown) > NAMES_SHOWN else ""
        raise ValueError(f"assumptions names no field of this file: {shown}{more}")
    blank = [k for k, why in assumptions.items() if not why.strip()]
    if blank:
        raise ValueError(f"each assumptions entry needs its reason ({blank[0]} has none)")


class VideoAsic(Spec):
    """A fixed-function transcoder whose throughput is published for one reference SIMO job per quality mode.

    Encoder capacity (output pixels/s) = reference_fps[quality] x the pixels of the reference job's rungs
    (the top `reference_outputs` rungs of the ladder at `reference_input_height`). Decoder capacity is
    `decode_pixels_per_s` of input.
    """

    name: str
    display_name: str
    source: str
    kind: Literal["video-asic"] = "video-asic"
    power_w: Watts
    host_power_w: Watts = Field(0.0, description="share of the host server's power per device")
    host: str = Field("", description="the host server the device sits in (what `host_power_w` is a share of)")
    host_source: str = Field("", description="where `host_power_w` comes from")
    software_baseline: str | None = Field(None, description="CPU preset `infraplan video` compares it with")
    modules_per_host: int = Field(1, ge=1, description="modules one host server holds: the unit fleet-mix and plan "
                                  "buy, and what `host_power_w` is a share of")
    host_rack_units: RackUnits | None = Field(None, description="the host server's height in rack units: a rack "
                                        "holds the hosts its space allows, as a system file's "
                                        "`node.server_rack_units` (None: rack space not counted, power alone)")
    published_speedup: dict[Codec, float] = Field(default_factory=dict, description="published ratio over software "
                                                  "encoding per codec (at the highest-quality mode)")
    published_speedup_versus: dict[Codec, str] = Field(default_factory=dict, description="the software encoder each "
                                                       "published ratio is taken against")
    published_speedup_basis: str = Field("", description="what the published ratios compare, and what is unpublished")
    codecs: list[Codec] = Field(min_length=1)
    reference_input_height: int = Field(gt=0)
    reference_outputs: int = Field(gt=0)
    reference_fps: dict[Quality, float] = Field(description="SIMO frames/s of the reference job per quality")
    decode_pixels_per_s: float = Field(gt=0)
    assumptions: dict[str, str] = Field(default_factory=dict, description=ASSUMPTIONS_DESCRIPTION)
    notes: str = ""

    @model_validator(mode="after")
    def _positive(self) -> VideoAsic:
        _assumed_fields(self, self.assumptions)
        if not self.reference_fps or min(self.reference_fps.values()) <= 0:
            raise ValueError("reference_fps needs a positive rate per quality")
        if not self.power_w > 0:  # watts per stream and the perf/W ratios divide by it (was a traceback, hU50)
            raise ValueError("power_w must be above 0")
        if self.software_baseline == self.name:  # a 1x comparison (hX50)
            raise ValueError(f"software_baseline names the device itself ({self.name}): name what it is compared "
                             "with, a CPU preset (xeon-8480) or another video device, or leave it out")
        if self.host_power_w > 0 and not self.host_source.strip():  # as an accelerator file's (hU54)
            raise ValueError("host_power_w needs host_source (where the host share comes from)")
        if self.published_speedup and (not self.published_speedup_basis.strip()
                                       or set(self.published_speedup_versus) != set(self.published_speedup)
                                       or min(self.published_speedup.values()) <= 0):
            raise ValueError("published_speedup needs a positive ratio, its encoder (published_speedup_versus) per "
                             "codec and published_speedup_basis")
        if unencoded := sorted(set(self.published_speedup) - set(self.codecs)):  # a ratio of nothing it runs (hH66)
            raise ValueError(f"published_speedup names {', '.join(unencoded)}, which codecs ({', '.join(self.codecs)}) "
                             "does not list: a speed-up is of a codec the device encodes")
        return self


class SoftwareEncoder(Spec):
    codec: Codec
    library: str
    quality: Quality
    preset: str
    pixels_per_s_per_core: float = Field(gt=0, description="encoded output pixels/s on one core")


class SoftwareEncoders(Spec):
    """Per-core software codec rates on a current server core (one rate set for every CPU in the catalog)."""

    source: str
    reference_core: str
    encoders: list[SoftwareEncoder] = Field(min_length=1)
    decode_pixels_per_s_per_core: dict[Codec, float]
    scale_pixels_per_s_per_core: float = Field(gt=0, description="downscaling (swscale), per output pixel")
    assumptions: dict[str, str] = Field(default_factory=dict, description=ASSUMPTIONS_DESCRIPTION)

    @model_validator(mode="after")
    def _assumed(self) -> SoftwareEncoders:
        _assumed_fields(self, self.assumptions)
        return self

    def encoder(self, codec: str, quality: str) -> SoftwareEncoder:
        for e in self.encoders:
            if e.codec == codec and e.quality == quality:
                return e
        known = sorted({f"{e.codec}/{e.quality}" for e in self.encoders})
        raise InputError(f"no software encoder for {codec}/{quality}; known: {', '.join(known)}")


class Ladder(Spec):
    """Rung heights of the adaptive-bitrate ladder, highest first, at a fixed aspect ratio."""

    source: str
    aspect_ratio: float = Field(16 / 9, gt=0)
    rung_heights: list[int] = Field(min_length=1)
    assumptions: dict[str, str] = Field(default_factory=dict, description=ASSUMPTIONS_DESCRIPTION)

    @model_validator(mode="after")
    def _descending(self) -> Ladder:
        _assumed_fields(self, self.assumptions)
        if self.rung_heights != sorted(set(self.rung_heights), reverse=True):
            raise ValueError("rung_heights must be distinct and descending")
        return self

    def width(self, height: int) -> int:
        """Width for a height, rounded to an even number of pixels as encoders require."""
        return int(round(height * self.aspect_ratio / 2.0)) * 2

    def rungs(self, input_lines: int, count: int) -> list[int]:
        """The top `count` rungs at or below the input's lines, its short side (the input's own first if not a
        rung): a rung height here is the short side of a rung of either orientation (video.transcode.rung_lines)."""
        below = [h for h in self.rung_heights if h <= input_lines]
        if not below or below[0] != input_lines:
            below = [input_lines, *below]
        return below[:count]
