"""The REST service: FastAPI routes over the run repository and the job manager.

``create_app(config)`` builds the application ``workbench serve`` runs with uvicorn. Every
``/api`` answer is JSON (files aside); OpenAPI at ``/docs``. See the README's "Service" section
and ``docs/INTERFACES.md`` for the endpoints.

Errors: a body that does not parse or breaks a limit is a 422 whose ``detail`` lists
``{"loc": [...], "msg": ..., "type": ...}`` naming the field (FastAPI's own shape, used for the
service's checks too); an unknown run or template is a 404; cancelling a finished job or
storing a different text under a referenced template version is a 409; too many submissions
from one client a 429 with ``Retry-After``; a missing or wrong token a 401; a body over the
size limit a 413; a submission during shutdown a 503.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbench.research.repository import (
    KINDS,
    STATUSES,
    RunEntry,
    RunRepository,
    UnknownRunError,
)
from workbench.service import adapter, page
from workbench.service.config import ServiceConfig
from workbench.service.jobs import AlreadyFinished, JobManager, ServiceStopping
from workbench.service.models import (
    RECORD_PATTERN,
    BacktestRequest,
    EventCompareRequest,
    MonteCarloRequest,
    TemplateRequest,
    TemplateStatusRequest,
)
from workbench.service.safety import RateLimiter, UnsafeInputError, token_matches

log = logging.getLogger("workbench.service.http")

RecordId = Annotated[str, PathParam(pattern=RECORD_PATTERN, description="record id")]
#: Records that are one backtest with its folder: a service or command-line run, a grid member.
BACKTESTS = ("single", "grid-member")
PAGE_COOKIE = "workbench_page"
SPEC_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/toml": {"schema": {"type": "string"}},
        },
    }
}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # read the whole body first (it is small, or refused): a streamed body over the limit
        # is a 413 before the application sees any of it
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        client = scope.get("client")
        log.info(
            "%s %s 413", scope.get("method"), scope.get("path"),
            extra={"event": "request", "method": scope.get("method"), "path": scope.get("path"),
                   "status": 413, "duration_ms": 0.0, "client": client[0] if client else None},
        )  # fmt: skip
        body = json.dumps({"detail": f"request body over {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _problem(loc: Any, message: str, kind: str = "value_error") -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": [{"loc": list(loc), "msg": message, "type": kind}]}
    )


def create_app(config: ServiceConfig) -> FastAPI:
    """The service for ``config`` (its job manager starts with the application)."""
    repo = RunRepository(config.reports)
    allowed = adapter.allowed_strategies(config.strategies)
    limiter = RateLimiter(config.rate_limit)
    manager = JobManager(config, repo)
    page_secret = (
        hmac.new(config.token.encode(), b"workbench-page", hashlib.sha256).hexdigest()
        if config.token
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(manager.start)
        try:
            yield
        finally:
            await run_in_threadpool(manager.shutdown)

    app = FastAPI(
        title="workbench",
        version=adapter.version(),
        description="Backtests, grids, walk-forward, event comparisons and Monte Carlo over "
        "the workbench's run repository.",
        lifespan=lifespan,
    )
    app.state.manager = manager
    app.state.config = config

    # -- middleware: logs, auth, body size ----------------------------------------------------
    @app.middleware("http")
    async def access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        path = request.url.path
        if (
            config.token
            and path.startswith("/api")
            and not token_matches(request.headers.get("authorization"), config.token)
        ):
            response: Response = JSONResponse(
                status_code=401,
                content={"detail": "missing or wrong bearer token (Authorization: Bearer <token>)"},
                headers={"WWW-Authenticate": "Bearer"},
            )
        else:
            response = await call_next(request)
        log.info(
            "%s %s %s", request.method, path, response.status_code,
            extra={"event": "request", "method": request.method, "path": path,
                   "status": response.status_code,
                   "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                   "client": request.client.host if request.client else None},
        )  # fmt: skip
        return response

    app.add_middleware(BodyLimit, limit=config.max_body_bytes)

    # -- errors -------------------------------------------------------------------------------
    @app.exception_handler(UnsafeInputError)
    async def unsafe(_: Request, exc: UnsafeInputError) -> JSONResponse:
        return _problem(exc.loc, exc.message)

    @app.exception_handler(UnknownRunError)
    async def unknown_run(_: Request, exc: UnknownRunError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(AlreadyFinished)
    async def finished(_: Request, exc: AlreadyFinished) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(adapter.TemplateConflict)
    async def conflict(_: Request, exc: adapter.TemplateConflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(ServiceStopping)
    async def stopping(_: Request, exc: ServiceStopping) -> JSONResponse:
        return JSONResponse(
            status_code=503, content={"detail": str(exc)}, headers={"Retry-After": "30"}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": errors})

    # -- dependencies -------------------------------------------------------------------------
    def submission(request: Request) -> None:
        """Rate limit per client address (429 with Retry-After) and refuse during shutdown."""
        if manager.stopping:
            raise ServiceStopping("the server is shutting down; submit again once it is back")
        client = request.client.host if request.client else "unknown"
        wait = limiter.acquire(client)
        if wait is not None:
            raise HTTPException(
                status_code=429,
                detail=f"too many submissions from {client}: at most {config.rate_limit} a minute",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )

    def page_access(request: Request) -> None:
        if not config.token:
            return
        if token_matches(request.headers.get("authorization"), config.token):
            return
        cookie = request.cookies.get(PAGE_COOKIE)
        if cookie and page_secret and hmac.compare_digest(cookie, page_secret):
            return
        raise HTTPException(
            status_code=401,
            detail="open /?token=<token> once (it sets a cookie) or send Authorization: Bearer",
            headers={"WWW-Authenticate": "Bearer"},
        )

    def entry_of(record_id: str, kinds: tuple[str, ...] | None = None) -> RunEntry:
        entry = repo.get(record_id)
        if kinds is not None and entry.kind not in kinds:
            raise UnknownRunError(f"run {record_id} is a {entry.kind}, not a {' or '.join(kinds)}")
        return entry

    def links(entry: RunEntry) -> dict[str, str]:
        out = {"self": f"/api/runs/{entry.id}"}
        if entry.kind in BACKTESTS:
            base = f"/api/backtests/{entry.id}"
            out.update(self=base, tearsheet=f"{base}/tearsheet", tradebook=f"{base}/tradebook",
                       daily=f"{base}/daily", manifest=f"{base}/manifest",
                       analysis=f"/api/analysis/{entry.id}")  # fmt: skip
        elif entry.kind == "grid":
            out["self"] = f"/api/grids/{entry.id}"
            out["members"] = f"/api/runs?parent={entry.id}"
        elif entry.kind == "walkforward":
            out["self"] = f"/api/walkforward/{entry.id}"
            out["windows"] = f"/api/runs?parent={entry.id}"
        elif entry.kind == "montecarlo":
            out["self"] = f"/api/montecarlo/{entry.id}"
        return out

    def describe(entry: RunEntry) -> dict[str, Any]:
        metrics = adapter.headline(entry.metrics) if entry.kind in BACKTESTS else entry.metrics
        return {
            "id": entry.id,
            "kind": entry.kind,
            "status": entry.status,
            "error": entry.error,
            "template": entry.template,
            "strategy": entry.strategy,
            "data": entry.data,
            "run_id": entry.run_id,
            "parent": entry.parent,
            "origin": entry.origin,
            "created_at": entry.created_at,
            "started_at": entry.started_at,
            "finished_at": entry.finished_at,
            "progress": {"done": entry.progress_done, "total": entry.progress_total},
            "metrics": metrics or None,
            "links": links(entry),
        }

    def accepted(record_id: str, response: Response) -> dict[str, Any]:
        entry = repo.get(record_id)
        response.status_code = 202
        response.headers["Location"] = links(entry)["self"]
        return {"id": record_id, "status": entry.status, "links": links(entry)}

    def run_file(entry: RunEntry, name: str) -> Path:
        if entry.out is None:
            raise HTTPException(status_code=404, detail=f"run {entry.id} has no output folder")
        path = Path(entry.out) / name
        if path.is_file():
            return path
        if not entry.final:
            raise HTTPException(
                status_code=409, detail=f"run {entry.id} is {entry.status}: no {name} yet"
            )
        raise HTTPException(
            status_code=404, detail=f"run {entry.id} ({entry.status}) has no {name}"
        )

    async def raw_body(request: Request) -> dict[str, Any] | str:
        data = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("application/toml", "text/toml", "text/plain", "application/x-toml"):
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise UnsafeInputError(("body",), "the TOML body is not UTF-8") from None
        try:
            parsed = json.loads(data or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnsafeInputError(("body",), f"not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise UnsafeInputError(
                ("body",),
                "expected a JSON object (or TOML text with Content-Type: application/toml)",
            )
        return parsed

    # -- health -------------------------------------------------------------------------------
    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        return {
            "status": "stopping" if manager.stopping else "ok",
            "version": adapter.version(),
            "jobs": manager.counts(),
            "executor": "dask" if config.dask else "process-pool",
            "workers": manager.capacity(),
        }

    # -- backtests ----------------------------------------------------------------------------
    @app.post("/api/backtests", status_code=202, tags=["backtests"],
              dependencies=[Depends(submission)])  # fmt: skip
    def submit_backtest(body: BacktestRequest, response: Response) -> dict[str, Any]:
        """Queue one backtest of a template or an allowed strategy: 202 with its id."""
        job = adapter.check_backtest(config, body, allowed)
        record_id = manager.submit(
            "single", job, template=job["template"], strategy=job["strategy"],
            data=job["data"], total=job["days"],
        )  # fmt: skip
        return accepted(record_id, response)

    @app.get("/api/backtests/{record_id}", tags=["backtests"])
    def backtest(record_id: RecordId) -> dict[str, Any]:
        """Status, progress (days done / total) and, once completed, the headline metrics."""
        return describe(entry_of(record_id, BACKTESTS))

    @app.get(
        "/api/backtests/{record_id}/tearsheet", response_class=HTMLResponse, tags=["backtests"]
    )
    def tearsheet(record_id: RecordId) -> FileResponse:
        return FileResponse(run_file(entry_of(record_id, BACKTESTS), "tearsheet.html"),
                            media_type="text/html")  # fmt: skip

    @app.get("/api/backtests/{record_id}/tradebook", tags=["backtests"])
    def tradebook(
        record_id: RecordId, format: Annotated[str, Query(pattern="^(parquet|csv)$")] = "parquet"
    ) -> Response:
        """The tradebook, one row per fill (Parquet, or CSV)."""
        path = run_file(entry_of(record_id, BACKTESTS), "tradebook.parquet")
        if format == "csv":
            return Response(adapter.tradebook_csv(path.parent), media_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{record_id}-tradebook.csv"'})  # fmt: skip
        return FileResponse(path, media_type="application/vnd.apache.parquet",
                            filename=f"{record_id}-tradebook.parquet")  # fmt: skip

    @app.get("/api/backtests/{record_id}/daily", tags=["backtests"])
    def daily(
        record_id: RecordId, format: Annotated[str, Query(pattern="^(csv|json)$")] = "csv"
    ) -> Response:
        """The daily path (daily.csv), or its rows as JSON."""
        path = run_file(entry_of(record_id, BACKTESTS), "daily.csv")
        if format == "json":
            return JSONResponse(adapter.daily_rows(path.parent))
        return FileResponse(path, media_type="text/csv", filename=f"{record_id}-daily.csv")

    @app.get("/api/backtests/{record_id}/manifest", tags=["backtests"])
    def manifest(record_id: RecordId) -> Any:
        entry = entry_of(record_id, BACKTESTS)
        if entry.manifest:
            return entry.manifest
        return json.loads(run_file(entry, "manifest.json").read_text())

    @app.delete("/api/backtests/{record_id}", status_code=202, tags=["backtests"])
    def cancel_backtest(record_id: RecordId) -> dict[str, Any]:
        """Cancel a queued or running backtest (409 when it already finished)."""
        entry_of(record_id, ("single",))
        return {"id": record_id, "status": manager.cancel(record_id)}

    # -- grids, walk-forward, events, Monte Carlo ---------------------------------------------
    @app.post("/api/grids", status_code=202, tags=["research"], openapi_extra=SPEC_BODY,
              dependencies=[Depends(submission)])  # fmt: skip
    async def submit_grid(request: Request, response: Response) -> dict[str, Any]:
        """Queue a parameter grid (a grid spec as JSON or TOML text, as `workbench grid`)."""
        body = await raw_body(request)
        job = await run_in_threadpool(adapter.check_grid, config, body, allowed)
        spec = job["spec"]
        record_id = await run_in_threadpool(
            lambda: manager.submit("grid", job, template=job["template"], strategy=job["strategy"],
                                   data=spec["data"], total=job["combinations"])
        )  # fmt: skip
        return accepted(record_id, response)

    @app.get("/api/grids/{record_id}", tags=["research"])
    def grid(record_id: RecordId) -> dict[str, Any]:
        """The grid's status and its members (each a run with its status and metrics)."""
        out = describe(entry_of(record_id, ("grid",)))
        out["members"] = [describe(m) for m in repo.list(parent=record_id)]
        return out

    @app.post("/api/walkforward", status_code=202, tags=["research"], openapi_extra=SPEC_BODY,
              dependencies=[Depends(submission)])  # fmt: skip
    async def submit_walkforward(request: Request, response: Response) -> dict[str, Any]:
        """Queue a walk-forward (a spec as JSON or TOML text, as `workbench walkforward`)."""
        body = await raw_body(request)
        job = await run_in_threadpool(adapter.check_walkforward, config, body, allowed)
        spec = job["spec"]
        record_id = await run_in_threadpool(
            lambda: manager.submit(
                "walkforward",
                job,
                template=job["template"],
                strategy=job["strategy"],
                data=spec["data"],
            )
        )
        return accepted(record_id, response)

    @app.get("/api/walkforward/{record_id}", tags=["research"])
    def walkforward(record_id: RecordId) -> dict[str, Any]:
        """Status, the windows finished so far, and once completed walk_forward.json."""
        entry = entry_of(record_id, ("walkforward",))
        out = describe(entry)
        out["windows"] = [describe(m) for m in repo.list(parent=record_id)]
        document = Path(entry.out or "") / "walk_forward.json"
        out["result"] = (
            json.loads(document.read_text()) if entry.out and document.is_file() else None
        )
        return out

    @app.get("/api/events", tags=["research"])
    def events() -> list[dict[str, Any]]:
        """The event presets, with the range each runs over."""
        return adapter.presets(config)

    @app.post("/api/events/{preset}/compare", status_code=202, tags=["research"],
              dependencies=[Depends(submission)])  # fmt: skip
    def submit_compare(
        preset: str, body: EventCompareRequest, response: Response
    ) -> dict[str, Any]:
        """Queue a comparison of templates over an event preset."""
        job = adapter.check_event_compare(config, preset, body)
        record_id = manager.submit("event-comparison", job, template=None, data=job["data"],
                                   total=len(job["templates"]))  # fmt: skip
        return accepted(record_id, response)

    @app.post("/api/montecarlo", status_code=202, tags=["analysis"],
              dependencies=[Depends(submission)])  # fmt: skip
    def submit_montecarlo(body: MonteCarloRequest, response: Response) -> dict[str, Any]:
        """Queue a Monte Carlo of a completed backtest's daily (or per-trade) PnL."""
        if body.paths > config.max_paths:
            raise UnsafeInputError(("body", "paths"),
                                   f"{body.paths} paths; the server allows at most {config.max_paths}")  # fmt: skip
        source = repo.find(body.run)
        if source is None or source.kind not in BACKTESTS:
            raise UnsafeInputError(("body", "run"), f"no backtest {body.run!r}")
        if source.status != "completed" or not adapter.folder_complete(source.out):
            raise UnsafeInputError(
                ("body", "run"), f"backtest {body.run} is {source.status}, not completed"
            )
        record_id = manager.submit("montecarlo", body.model_dump(), data=source.data,
                                   template=source.template, strategy=source.strategy)  # fmt: skip
        return accepted(record_id, response)

    @app.get("/api/montecarlo/{record_id}", tags=["analysis"])
    def montecarlo(record_id: RecordId) -> dict[str, Any]:
        """Status and, once completed, the summary, fan and percentiles."""
        entry = entry_of(record_id, ("montecarlo",))
        out = describe(entry)
        document = Path(entry.out or "") / "montecarlo.json"
        out["result"] = (
            json.loads(document.read_text()) if entry.out and document.is_file() else None
        )
        return out

    @app.get("/api/analysis/{record_id}", tags=["analysis"])
    def analysis(record_id: RecordId) -> Any:
        """The analytics of a finished backtest: metrics, trades, costs, Monte Carlo summaries,
        breakdowns, worst drawdowns, yearly table."""
        entry = entry_of(record_id, BACKTESTS)
        run_file(entry, "tradebook.parquet")
        capital = (entry.manifest or {}).get("capital")
        return adapter.analysis_of(str(entry.out), capital)

    # -- templates ----------------------------------------------------------------------------
    @app.get("/api/templates", tags=["templates"])
    def template_list() -> list[dict[str, Any]]:
        """Every template's default version (with the statuses of all its versions)."""
        return adapter.template_list(config)

    @app.get("/api/templates/{name}", tags=["templates"])
    def template_versions(name: str) -> dict[str, Any]:
        """Every version of one template: status, hash, parameters, whether a run used it."""
        try:
            return adapter.template_versions(config, name)
        except KeyError as exc:
            raise HTTPException(
                status_code=404, detail=str(exc.args[0] if exc.args else exc)
            ) from None

    @app.post("/api/templates", status_code=201, tags=["templates"], openapi_extra=SPEC_BODY,
              dependencies=[Depends(submission)])  # fmt: skip
    async def add_template(
        request: Request,
        status: Annotated[str | None, Query(pattern="^(draft|active|archived)$")] = None,
    ) -> dict[str, Any]:
        """Store a new template version (JSON fields, or the TOML text of a template file);
        validated against its strategy; the same text again changes nothing; another text
        under a version a run used is a 409."""
        body = await raw_body(request)
        if isinstance(body, dict):
            try:
                fields = TemplateRequest(**body)
            except Exception as exc:  # pydantic's ValidationError: 422 naming the field
                from pydantic import ValidationError

                if isinstance(exc, ValidationError):
                    first = exc.errors()[0]
                    raise UnsafeInputError(("body", *first["loc"]), first["msg"]) from None
                raise
            chosen = status or fields.status
            text = json.dumps(fields.model_dump(exclude={"status"}), sort_keys=True, indent=2)
        else:
            chosen, text = status or "active", body
        return await run_in_threadpool(adapter.add_template, config, text, chosen, allowed)

    @app.patch("/api/templates/{name}/{version}", tags=["templates"])
    def template_status(name: str, version: int, body: TemplateStatusRequest) -> dict[str, Any]:
        """Set a version's status (draft -> active -> archived; never back to draft)."""
        try:
            return adapter.set_template_status(config, name, version, body.status)
        except KeyError as exc:
            raise HTTPException(
                status_code=404, detail=str(exc.args[0] if exc.args else exc)
            ) from None

    # -- the run repository -------------------------------------------------------------------
    @app.get("/api/runs", tags=["runs"])
    def runs(
        kind: Annotated[str | None, Query(description=", ".join(KINDS))] = None,
        status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
        template: Annotated[str | None, Query(max_length=80)] = None,
        parent: Annotated[str | None, Query(pattern=RECORD_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Runs of the repository (every origin: command line, grids, this service), newest
        first, filtered by kind, status, template (name or name@version) and parent."""
        try:
            found = repo.list(kind=kind or None, status=status or None, template=template or None,
                              parent=parent, limit=limit, newest_first=True)  # fmt: skip
        except ValueError as exc:
            field = "kind" if "kind" in str(exc) else "status"
            raise UnsafeInputError(("query", field), str(exc)) from None
        return {"runs": [describe(e) for e in found], "count": len(found)}

    @app.get("/api/runs/{record_id}", tags=["runs"])
    def run(record_id: RecordId) -> dict[str, Any]:
        entry = repo.get(record_id)
        out = describe(entry)
        out["request"] = entry.request
        out["out"] = entry.out
        if entry.kind not in BACKTESTS:
            out["metrics"] = entry.metrics
        return out

    @app.delete("/api/runs/{record_id}", status_code=202, tags=["runs"])
    def cancel_run(record_id: RecordId) -> dict[str, Any]:
        """Cancel any queued or running job of this server."""
        repo.get(record_id)
        return {"id": record_id, "status": manager.cancel(record_id)}

    # -- the runs page ------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(
        request: Request,
        token: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        template: str | None = None,
    ) -> Response:
        if token is not None and config.token:
            if not hmac.compare_digest(token.encode(), config.token.encode()):
                raise HTTPException(status_code=401, detail="wrong token")
            redirect = RedirectResponse("/", status_code=303)
            redirect.set_cookie(PAGE_COOKIE, page_secret or "", httponly=True, samesite="strict")
            return redirect
        page_access(request)
        filters = {
            "kind": kind if kind in KINDS else None,
            "status": status if status in STATUSES else None,
            "template": template or None,
        }
        entries = repo.list(**filters, limit=200, newest_first=True)
        html = page.render(entries, counts=repo.counts(), filters=filters,
                           repository=str(repo.path))  # fmt: skip
        return HTMLResponse(html)

    @app.get("/runs/{record_id}/tearsheet", response_class=HTMLResponse, include_in_schema=False)
    def page_tearsheet(request: Request, record_id: RecordId) -> FileResponse:
        page_access(request)
        entry = entry_of(record_id, BACKTESTS)
        return FileResponse(run_file(entry, "tearsheet.html"),
                            media_type="text/html")  # fmt: skip

    @app.get("/runs/{record_id}/record", include_in_schema=False)
    def page_record(request: Request, record_id: RecordId) -> dict[str, Any]:
        page_access(request)
        return run(record_id)

    return app
