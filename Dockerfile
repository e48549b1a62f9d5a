# syntax=docker/dockerfile:1.7
#
# One Dockerfile for every deployable process of Australia Jobs.
#
#   docker build --build-arg SERVICE=auth    --build-arg PORT=8001 -t australia-jobs/aujobs-auth:dev .
#   docker build --build-arg SERVICE=jobs    --build-arg PORT=8002 -t australia-jobs/aujobs-jobs:dev .
#   docker build --build-arg SERVICE=search  --build-arg PORT=8003 -t australia-jobs/aujobs-search:dev .
#   (notifications 8004, resumes 8005, applications 8006 likewise)
#   docker build --build-arg SERVICE=gateway --build-arg PORT=8000 -t australia-jobs/aujobs-gateway:dev .
#
# SERVICE selects the uv workspace member (package aujobs-${SERVICE}, module
# aujobs_${SERVICE}); only that member and what it depends on (aujobs-common) end up
# in the image. The embedded runner is a development tool and is never built here.

ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13.9

# uv comes from its official distroless image; a named stage because COPY --from
# cannot expand build arguments.
FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------
# builder: resolve and install into /app/.venv from the frozen lockfile
# ---------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS builder

ARG SERVICE
RUN case "${SERVICE}" in \
      auth|jobs|search|notifications|resumes|applications|gateway) ;; \
      *) echo "build arg SERVICE must be one of auth|jobs|search|notifications|resumes|applications|gateway (got '${SERVICE}')" >&2; exit 1 ;; \
    esac

COPY --from=uv /uv /uvx /bin/

# Compile bytecode at build time: the runtime root filesystem is read-only.
# Copy (not hard-link) out of the cache mount; never download a Python, use the image's.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Layer 1: third-party dependencies only. It depends on nothing but the lockfile and
# the workspace root, so it stays cached while service code changes. --frozen reads
# the lock as is (the member pyproject.toml files are not needed yet).
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-workspace --package "aujobs-${SERVICE}"

# Layer 2: the workspace sources, installed as regular (non-editable) wheels so the
# runtime stage needs the virtualenv only, not the source tree.
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "aujobs-${SERVICE}"

# ---------------------------------------------------------------------------------
# runtime: the virtualenv, an unprivileged user, nothing else
# ---------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ARG SERVICE
ARG PORT=8000

# Numeric uid/gid so Kubernetes can verify runAsNonRoot without a passwd lookup.
RUN groupadd --system --gid 10001 aujobs \
 && useradd --system --uid 10001 --gid aujobs --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin aujobs

COPY --from=builder --chown=root:root /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE=${SERVICE} \
    SERVICE_NAME=${SERVICE} \
    PORT=${PORT}

WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}

# Shell form only to expand SERVICE/PORT; exec makes python PID 1 so it gets SIGTERM.
# Override for one-shot work, e.g. `python -m aujobs_auth migrate`.
CMD ["sh", "-c", "exec python -m \"aujobs_${SERVICE}\" serve --host 0.0.0.0 --port \"${PORT}\""]
