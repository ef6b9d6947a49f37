"""A request's uploaded catalog files (`request_fields.UploadedFile`), read by the CLI's own loaders.

The CLI takes a user's file where it takes a preset: `train FILE`, `--system FILE`, `--stack FILE` (catalog/loader.py
`looks_like_path`, `load_model`, `load_system`, `load_accelerator`; catalog/stacks.py `load_stack`), `--workload FILE`
(catalog/serving_loader.py), `--location` / `--fleet` / `--failure-rate FILE` (catalog/facility_loader.py), `recsys
FILE` and video's `--device FILE` (catalog/inference_loader.py). The web takes the file's text instead (`CatalogRef`,
request_fields.py, lists the fields) and answers as the CLI does for a file of that name, because the same loaders
read it:

- `on_disk(request)` writes each upload into a private temporary folder, as `FIELD/STEM/FILENAME` (a `config.json`
  is then named `config`, as `infraplan train config.json` names it: `read_entry` takes a config.json's folder name),
  gives the runner the request with those paths in place of the uploads, and removes the folder when the run ends
  (a job's run too: the folder lives as long as the runner's call). Nothing else is written.
- `shown(text)` puts each upload's file name back where a line or a result names its temporary path, so an error is
  the CLI's line for that file name ("malformed file my.json: ...") and a result names no server folder.
- Before anything is written, each upload is parsed (`catalog.user_files.parse_text`, the CLI's one-line errors) and the
  files it names itself (`extends`, a system's `accelerator`, an accelerator's `recsys_profile`: read beside the
  file on the CLI, `catalog.loader.beside`; a video device's `software_baseline`, a failure rate's `all_causes`, a
  workload's `diffusion_model`, a fleet site's `system` / `accelerator` / `location` / `cooling`: `FILE_KEYS`,
  `LIST_FILE_KEYS`) must be preset names (`scenarios.preset_like`): the web reads no server file, as an uploaded
  scenario's references (`scenarios.no_server_files`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar, overload

from infraplan.catalog.output_files import shown_path
from infraplan.catalog.user_files import parse_text
from infraplan.errors import InputError
from infraplan.web.request_fields import UploadedFile, WebRequest
from infraplan.web.scenarios import preset_like

R = TypeVar("R", bound=WebRequest)

FILE_KEYS = ("extends", "accelerator", "recsys_profile", "software_baseline", "all_causes", "diffusion_model")
"""Keys of an uploaded file whose value the CLI reads as a file when it is a path: an accelerator, system or stack
file's `extends`, `accelerator`, `recsys_profile` (beside it); a video device's `software_baseline`
(`video.transcode`), a failure rate's `all_causes` (`facility.reliability`), a workload's `diffusion_model`
(`serving.diffusion`)."""
LIST_FILE_KEYS = {"sites": ("system", "accelerator", "location", "cooling")}
"""List key -> the keys of each item read as a file when a path: a fleet's sites (`planning.campus.plan_fleet`)."""


@overload
def ref(value: str | UploadedFile) -> str: ...
@overload
def ref(value: str | UploadedFile | None) -> str | None: ...
def ref(value: str | UploadedFile | None) -> str | None:
    """A catalog reference of a request `on_disk` gave: a preset name or an upload's temporary path, as the CLI's
    loaders take it (an upload itself here is a runner called outside `on_disk`: a bug, not an input)."""
    if isinstance(value, UploadedFile):
        raise TypeError("an uploaded file outside web.uploads.on_disk")
    return value


def uploads(request: WebRequest) -> dict[str, UploadedFile]:
    """Field -> its uploaded file, for the request's fields given as uploads."""
    return {name: value for name in type(request).model_fields
            if isinstance(value := getattr(request, name), UploadedFile)}


def check_upload(upload: UploadedFile) -> None:
    """The upload parses as its suffix says (the CLI's line where it does not) and names no server file."""
    data = parse_text(upload.text, upload.filename)
    if not isinstance(data, dict):
        return  # the loader's own line ("... must hold a mapping")
    named = [(key, data.get(key)) for key in FILE_KEYS]
    for key, keys in LIST_FILE_KEYS.items():
        items = data.get(key)
        named += [(f"{key}[{i}].{k}", item.get(k)) for i, item in enumerate(items if isinstance(items, list) else [])
                  if isinstance(item, dict) for k in keys]
    for key, value in named:
        if isinstance(value, str) and not preset_like(value):
            raise InputError(f"{upload.filename}: {key} {value[:80]!r} must be a preset name: the web reads no "
                             "files (GET /api/catalog lists the presets)")


def _write(path: Path, upload: UploadedFile) -> None:
    try:
        data = upload.text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800: what `read_text_file` says of such a file
        raise InputError(f"file {upload.filename} is not UTF-8 text (a binary file?)") from None
    path.parent.mkdir(parents=True)
    path.write_bytes(data)


@contextmanager
def on_disk(request: R) -> Iterator[tuple[R, Callable[[str], str]]]:
    """(the request with each upload's temporary path in its place, `shown`) while the block runs; the folder is
    removed after it. A request without uploads is given back as it is (and `shown` changes nothing)."""
    files = uploads(request)
    if not files:
        yield request, str
        return
    for upload in files.values():
        check_upload(upload)
    folder = Path(tempfile.mkdtemp(prefix="infraplan-upload-"))
    try:
        paths = {name: folder / name / Path(u.filename).stem / u.filename for name, u in files.items()}
        for name, upload in files.items():
            _write(paths[name], upload)
        names = {str(paths[name]): upload.filename for name, upload in files.items()}
        names |= {shown_path(path): shown_path(name) for path, name in names.items() if shown_path(path) != path}

        def shown(text: str) -> str:
            for path, name in sorted(names.items(), key=lambda item: -len(item[0])):
                text = text.replace(path, name)
            return text.replace(str(folder), "(upload)")

        yield request.model_copy(update={name: str(path) for name, path in paths.items()}), shown
    finally:
        shutil.rmtree(folder, ignore_errors=True)
