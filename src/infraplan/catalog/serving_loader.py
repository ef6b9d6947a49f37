"""Serving catalog: workload presets and diffusion models (schemas and loaders).

Presets live in `catalog/workloads/*.yaml` and `catalog/diffusion/*.yaml`, each with its `source:`; a user
passes a preset name or a path to their own YAML file. The price of an accelerator-hour is not catalog data
here: it comes from the one cost model, `infraplan.cluster.cost.usd_per_accelerator_hour`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infraplan.catalog.loader import list_presets, read_entry, validated
from infraplan.catalog.schemas import Spec
from infraplan.catalog.versioned_cache import versioned_cache


class LengthDistribution(Spec):
    """Token counts per request: fixed (the median; a sigma, min or max is refused: it reads none), or log-normal
    (median, sigma of ln) clipped to [min, max]."""

    distribution: Literal["fixed", "lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(0.0, ge=0, le=10.0, description="sigma of ln(tokens); <= 10: e^(+-20) around the median, "
                         "far beyond measured traces (Splitwise's ~1), where the draws overflow")
    min: int = Field(1, ge=1)
    max: int = Field(1_000_000, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> LengthDistribution:
        if self.min > self.max:
            raise ValueError("min exceeds max")
        if self.distribution == "fixed":  # every request is the median: a spread or a clip was ignored silently
            unread = [f"{k} {v:g}" for k, v in (("sigma", self.sigma), ("min", self.min), ("max", self.max))
                      if v != type(self).model_fields[k].default]
            if unread:
                one = len(unread) == 1
                raise ValueError(f"distribution fixed reads only median (every request that length): "
                                 f"{', '.join(unread)} {'is' if one else 'are'} read by lognormal; drop "
                                 f"{'it' if one else 'them'} or give distribution: lognormal")
        return self


class Arrival(Spec):
    """Arrival process: Poisson (cv 1; another cv is refused), or Gamma inter-arrival times with coefficient of
    variation `cv` (burstiness)."""

    process: Literal["poisson", "gamma"]
    cv: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _cv_is_gamma(self) -> Arrival:
        if self.process == "poisson" and self.cv != 1.0:  # exponential gaps: cv 1 by definition, a cv was ignored
            raise ValueError(f"process poisson has cv 1 (exponential gaps): cv {self.cv:g} is read by gamma; drop "
                             "it or give process: gamma")
        return self


class WorkloadSpec(Spec):
    display_name: str
    source: str
    kind: Literal["llm", "diffusion"]
    name: str = ""
    input_tokens: LengthDistribution | None = None
    output_tokens: LengthDistribution | None = None
    arrival: Arrival = Arrival(process="poisson")
    ttft_slo_s: float | None = Field(None, gt=0)
    tpot_slo_s: float | None = Field(None, gt=0)
    e2e_slo_s: float | None = Field(None, gt=0)
    suggested_model: str | None = None
    diffusion_model: str | None = None
    steps: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _kind_fields(self) -> WorkloadSpec:
        if self.kind == "llm" and (self.input_tokens is None or self.output_tokens is None):
            raise ValueError("an llm workload needs input_tokens and output_tokens")
        if self.kind == "diffusion" and (self.diffusion_model is None or self.steps is None):
            raise ValueError("a diffusion workload needs diffusion_model and steps")
        return self


class DiffusionModel(Spec):
    """A latent diffusion model as data: cost per denoising step at one resolution, text encoder, decoder."""

    display_name: str
    source: str
    name: str = ""
    resolution_px: int = Field(gt=0)
    unet_flops_per_image_step: float = Field(gt=0)
    unet_params: float = Field(gt=0)
    guidance_passes: int = Field(2, ge=1, le=2)
    text_encoder_flops: float = Field(ge=0)
    text_encoder_params: float = Field(ge=0)
    decoder_flops: float = Field(ge=0)
    decoder_params: float = Field(ge=0)
    activation_bytes_per_image_step: float = Field(ge=0)
    kernels_per_unet_forward: int = Field(gt=0)
    kernels_per_decoder: int = Field(gt=0)


def list_serving_presets(folder: str) -> list[str]:
    """Preset names in 'workloads' or 'diffusion'."""
    return list_presets(folder)


@versioned_cache(maxsize=64)
def load_workload(ref: str) -> WorkloadSpec:
    data, name = read_entry("workloads", ref, "workload")
    data.setdefault("name", name)
    return validated(WorkloadSpec, data, ref, "workload")


@versioned_cache(maxsize=64)
def load_diffusion_model(ref: str) -> DiffusionModel:
    data, name = read_entry("diffusion", ref, "diffusion model")
    data.setdefault("name", name)
    return validated(DiffusionModel, data, ref, "diffusion model")
