"""The FastAPI application: JSON endpoints over the typed API, catalog browsing, jobs, and the pages.

Endpoints (OpenAPI at /openapi.json; its reference page at /docs, rendered here: web/api_docs.py, no CDN):
- `POST /api/{command}` for train, search, serve, serve-plan, recsys, video, network, collective, facility,
  campus, reliability, plan, compare, fleet-mix: the body is the command's request model (`web/requests.py`;
  fleet-mix's in `web/fleet_mix.py`), the 200 response its typed result (the model `infraplan schema COMMAND`
  prints), what `infraplan COMMAND --json` prints. Scenarios and fleet-mix specs are shipped presets by name or
  uploaded specs (web/scenarios.py, web/fleet_mix.py), never server paths.
  Long work (`jobs.is_long`) answers 202 with a job; `GET /api/jobs/{id}` polls it (input its command refuses
  answers 400 with the line, checked before the job is queued: `jobs.check_input`).
- `POST /api/{command}/cli`: the equivalent `infraplan` command line ("copy as CLI command").
- `GET /api/catalog`, `/api/catalog/{kind}`, `/api/catalog/{kind}/{name}`: shipped presets with their sources;
  `GET /api/scenarios`: the shipped example scenarios that `plan` and `compare` take by name (web/scenarios.py);
  `GET /api/fleet-mix/presets`: the shipped example fleets that `fleet-mix` takes by name (web/fleet_mix.py).
- Pages `/`, `/train`, `/serve`, `/recsys`, `/video`, `/network`, `/facility`, `/compare`, `/fleet-mix` (static
  HTML + vanilla JS, Plotly from the `plotly` package's offline bundle at /static/plotly.min.js: no CDN).

Safety: bodies above `MAX_BODY_BYTES` get 413 before they are read whole; input errors get 400 with the CLI's
one line (`InputError`), schema violations 422 with one line, a body giving one name twice too (`UniqueJsonRoute`:
the CLI's files' rule, `catalog.yaml_text.safe_load_json`); anything else 500 with a fixed line, never a
traceback. No CORS headers are sent (browsers keep other origins out); no request names a file (an uploaded
config.json or system / stack YAML is its text, web/uploads.py).
"""

import difflib
import json
from importlib import resources
from typing import Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infraplan import __version__
from infraplan.catalog import index as catalog_api  # the preset index `infraplan catalog` prints
from infraplan.catalog.yaml_text import DuplicateJsonKeyError, safe_load_json
from infraplan.errors import InputError
from infraplan.web import fleet_mix, scenarios
from infraplan.web.api_docs import api_docs_html
from infraplan.web.jobs import Busy, Job, JobStore, ResultCache, is_long
from infraplan.web.request_fields import strict_type_words
from infraplan.web.requests import REQUESTS, WebRequest
from infraplan.web.runners import RESULT_MODELS

MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted (a request is a few hundred bytes)."""
PAGES = ("index", "train", "serve", "recsys", "video", "network", "facility", "compare", "fleet-mix")


class ErrorBody(BaseModel):
    detail: str = Field(description="one line, the same the CLI prints after 'infraplan: error:'")


class JobStatus(BaseModel):
    id: str = Field(description="job id")
    command: str = Field(description="the command it runs")
    status: str = Field(description="queued | running | done | failed | cancelled")
    progress: float = Field(description="fraction done, 0..1")
    error: str | None = Field(None, description="the one-line error when failed (or why it was cancelled)")
    result: dict[str, Any] | None = Field(None, description="the command's result when done")
    poll: str = Field(description="where to poll")


class CliLine(BaseModel):
    command: str = Field(description="the `infraplan ... --json` line that prints the same result")


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = JSONResponse({"detail": f"request body over {self.limit // 1024} KiB"}, status_code=413)
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await too_big(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await too_big(scope, receive, send)


class _TooBig(Exception):
    pass


class _UniqueJsonRequest(Request):
    """A request whose JSON body is read by `safe_load_json`: an object giving one name twice is refused (422 with
    one line) where Starlette's `json.loads` kept the last silently (hR80: {"tp": 1, "tp": 8} ran with tp 8)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                body = await self.body()  # decoded as `json.loads` decodes bytes
                encoding = json.detect_encoding(body)
                self._json = safe_load_json(body.decode(encoding, "surrogatepass"), long_ints_as_floats=True)
            except DuplicateJsonKeyError as exc:  # FastAPI passes an HTTPException from here through as it is
                raise StarletteHTTPException(422, f"the body is not valid JSON: {exc}") from None
            except UnicodeDecodeError:  # (FastAPI's 400 "There was an error parsing the body" before)
                raise StarletteHTTPException(422, f"the body is not valid JSON: not {encoding} text") from None
        return self._json


class UniqueJsonRoute(APIRoute):
    """The app's routes: their JSON bodies parsed by `_UniqueJsonRequest` (FastAPI's custom-route pattern)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def unique_json_handler(request: Request) -> Response:
            return await handler(_UniqueJsonRequest(request.scope, request.receive))  # type: ignore[no-any-return]

        return unique_json_handler


def _field_hint(path: str, name: str) -> str:
    """For a field the command's body lacks: the web's name of the CLI option it spells (`checkpoint_interval` is
    `checkpoint_interval_s`, the CLI's --checkpoint-interval), else the closest field's name, else nothing (hU61)."""
    model = REQUESTS.get(path.removeprefix("/api/").removesuffix("/cli"))
    if model is None:
        return ""
    spelled = {flag.removeprefix("--").replace("-", "_"): field for field, flag in model.cli_names().items()
               if flag.startswith("--")}
    if name in spelled and spelled[name] != name:
        return f"; the CLI's --{name.replace('_', '-')} is the field {spelled[name]} here"
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _expected(path: str, name: str, given: object, msg: str) -> str:
    """A pattern's refusal in the field's own words (its description: the CLI option's help, with its example), the
    value as typed: "cannot read '-2'; expected tensor parallel degree, or 'auto'" (was "String should match pattern
    '^(auto|[1-9][0-9]{0,6})$'"); `msg` where the field has none."""
    model = REQUESTS.get(path.removeprefix("/api/").removesuffix("/cli"))
    info = model.model_fields.get(name) if model is not None else None
    if info is None or not info.description:
        return msg
    shown = str(given).strip()
    return f"cannot read {shown[:40] + '...' if len(shown) > 40 else shown!r}; expected {info.description}"


def _branch_name(part: object) -> bool:
    """A union branch's name in an error's location (`CatalogRef`'s `function-after[...]` or `UploadedFile`)."""
    return isinstance(part, str) and ("[" in part or part == "UploadedFile")


def _union_branch(err: Any) -> bool:
    return any(_branch_name(p) for p in err.get("loc", ()))


def _one_line(exc: RequestValidationError, path: str = "") -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    # a preset name or an upload (`CatalogRef`) given an object: the upload's error, not "must be a valid string"
    errors = [e for e in errors if e.get("type") != "string_type" or not isinstance(e.get("input"), dict)
              or not _union_branch(e)] or errors
    err = errors[0]
    if err.get("type") == "json_invalid":
        return "the body is not valid JSON"
    loc = [str(p) for p in err.get("loc", ()) if p != "body" and not _branch_name(p)]
    where = ".".join(loc) or "body"
    msg = str(err.get("msg", "invalid")).replace("Input should be", "must be").replace("Value error, ", "")
    if err.get("type") == "int_parsing_size":  # pydantic's "Unable to parse input string as an integer" for 1e308
        msg = f"must be a whole number; {err.get('input')!r} is too large"
    msg = strict_type_words(err) or msg
    if err.get("type") == "extra_forbidden" and len(loc) == 1:
        msg += _field_hint(path, loc[0])
    if err.get("type") == "string_pattern_mismatch" and len(loc) == 1:  # the field's words, not its regex (hD58)
        msg = _expected(path, loc[0], err.get("input"), msg)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return " ".join(f"invalid {where}: {msg}{more}".split())[:400]


def _job_json(job: Job) -> str:
    head = {"id": job.id, "command": job.command, "status": job.status, "progress": round(job.progress, 4),
            "error": job.error, "poll": f"/api/jobs/{job.id}"}
    text = json.dumps(head)
    return text[:-1] + ', "result": ' + (job.result_json or "null") + "}"


def _add_command(app: FastAPI, name: str, request_cls: type[WebRequest], cache: ResultCache, jobs: JobStore) -> None:
    errors: dict[int | str, dict[str, Any]] = {
        202: {"model": JobStatus, "description": "long work: a job to poll"},
        400: {"model": ErrorBody, "description": "bad input (the CLI's one-line message)"},
        413: {"model": ErrorBody, "description": "request body too large"},
        422: {"model": ErrorBody, "description": "body does not match the schema"},
        429: {"model": ErrorBody, "description": "too many jobs pending"},
    }

    def run_command(body: request_cls) -> Response:  # type: ignore[valid-type]
        request: WebRequest = body
        if is_long(request):
            job = jobs.submit(request)  # InputError (400) for input its command refuses, before it is queued (hB77)
            return Response(_job_json(job), status_code=202, media_type="application/json")
        return Response(cache.compute(request), media_type="application/json")

    def cli_line(body: request_cls) -> CliLine:  # type: ignore[valid-type]
        request: WebRequest = body
        return CliLine(command=request.cli())

    doc = (request_cls.__doc__ or "").strip()
    app.post(f"/api/{name}", response_model=None, responses={200: {"model": RESULT_MODELS[name]}, **errors},
             summary=f"infraplan {name}", description=doc, operation_id=f"run_{name.replace('-', '_')}",
             tags=["commands"])(run_command)
    app.post(f"/api/{name}/cli", response_model=CliLine, summary=f"the `infraplan {name}` command line",
             operation_id=f"cli_{name.replace('-', '_')}", tags=["commands"],
             responses={422: {"model": ErrorBody}})(cli_line)


def _page(name: str) -> str:
    return (resources.files("infraplan.web") / "static" / f"{name}.html").read_text(encoding="utf-8")


def create_app() -> FastAPI:
    """A new application with its own result cache and job pool."""
    app = FastAPI(title="infraplan", version=__version__, separate_input_output_schemas=False, docs_url=None,
                  redoc_url=None,  # FastAPI's pages load Swagger UI / ReDoc from a CDN: /docs is ours (api_docs)
                  description="Planner and simulator for AI compute infrastructure: the CLI's typed API over HTTP.")
    app.router.route_class = UniqueJsonRoute
    cache = ResultCache()
    jobs = JobStore(cache)
    app.state.cache, app.state.jobs = cache, jobs
    app.add_middleware(BodyLimit)
    app.router.on_shutdown.append(jobs.shutdown)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc, request.url.path)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    commands: dict[str, type[WebRequest]] = {**REQUESTS, fleet_mix.FleetMixRequest.command: fleet_mix.FleetMixRequest}
    for name, request_cls in commands.items():
        _add_command(app, name, request_cls, cache, jobs)

    @app.get("/api/jobs/{job_id}", response_model=None, tags=["jobs"], operation_id="job_status",
             responses={200: {"model": JobStatus}, 404: {"model": ErrorBody}})
    def job_status(job_id: str = Path(max_length=64, pattern=r"^[0-9a-f]+$")) -> Response:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"detail": f"no job {job_id!r} (finished jobs are kept for a while)"},
                                status_code=404)
        return Response(_job_json(job), media_type="application/json")

    @app.delete("/api/jobs/{job_id}", response_model=None, tags=["jobs"], operation_id="job_cancel",
                responses={200: {"model": JobStatus}, 404: {"model": ErrorBody}})
    def job_cancel(job_id: str = Path(max_length=64, pattern=r"^[0-9a-f]+$")) -> Response:
        """Cancel a job: queued, it never runs; running, it stops at its next progress report (hB76)."""
        job = jobs.cancel(job_id)
        return job_status(job_id) if job is not None else JSONResponse({"detail": f"no job {job_id!r}"}, 404)

    @app.get("/api/catalog", tags=["catalog"], operation_id="catalog_kinds")
    def catalog_kinds() -> list[str]:
        return catalog_api.kinds()

    # an unknown kind or preset is a resource that does not exist: 404 with the did-you-mean line
    @app.get("/api/catalog/{kind}", tags=["catalog"], operation_id="catalog_list", response_model=None,
             responses={200: {"model": catalog_api.CatalogKind}, 404: {"model": ErrorBody}})
    def catalog_list(kind: str = Path(max_length=32)) -> catalog_api.CatalogKind | JSONResponse:
        try:
            return catalog_api.list_kind(kind)
        except InputError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.get("/api/catalog/{kind}/{name}", tags=["catalog"], operation_id="catalog_entry", response_model=None,
             responses={200: {"model": dict[str, Any]}, 404: {"model": ErrorBody}})
    def catalog_entry(kind: str = Path(max_length=32),
                      name: str = Path(max_length=64)) -> dict[str, Any] | JSONResponse:
        try:
            data = catalog_api.entry(kind, name)
        except InputError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return data if isinstance(data, dict) else {"value": data}

    @app.get("/api/scenarios", tags=["catalog"], operation_id="scenario_presets")
    def scenario_presets() -> list[scenarios.ScenarioPreset]:
        return scenarios.presets()

    @app.get("/api/fleet-mix/presets", tags=["catalog"], operation_id="fleet_mix_presets")
    def fleet_mix_presets() -> list[fleet_mix.FleetPreset]:
        return fleet_mix.presets()

    @app.get("/api/health", tags=["meta"], operation_id="health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "cache_hits": cache.hits, "cache_misses": cache.misses}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(api_docs_html(app.openapi(), {cls.__name__: cls.cli_names() for cls in commands.values()}))

    # browsers ask every site for /favicon.ico: a 404 there was an error in the console of every page (hD58)
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(_plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(resources.files("infraplan.web") / "static")), name="static")

    for page in PAGES:
        _add_page(app, page)
    return app


def _add_page(app: FastAPI, page: str) -> None:
    def show() -> HTMLResponse:
        return HTMLResponse(_page(page))

    app.get("/" if page == "index" else f"/{page}", include_in_schema=False)(show)


_PLOTLY: list[str] = []


def _plotly_js() -> str:
    """plotly.js from the `plotly` Python package's offline bundle (read once)."""
    if not _PLOTLY:
        from plotly.offline import get_plotlyjs

        _PLOTLY.append(get_plotlyjs())
    return _PLOTLY[0]
