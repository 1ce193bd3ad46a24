# Production image: Python 3.13 with dependencies installed by uv from the lock file.
FROM python:3.13-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv PATH="/app/.venv/bin:$PATH"
RUN apt-get update && apt-get install -y --no-install-recommends git bubblewrap && rm -rf /var/lib/apt/lists/*
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
# Static files go to STATIC_ROOT (/app/staticfiles), outside the VAR_DIR volume (/app/var).
RUN uv sync --locked --no-dev \
 && ENVIRONMENT=development VAR_DIR=/tmp/build python manage.py collectstatic --noinput \
 && useradd --system --create-home yardstick && mkdir -p /app/var /app/logs \
 && chown -R yardstick /app/var /app/logs
USER yardstick
EXPOSE 8000
ARG BUILD_COMMIT=unknown
ARG BUILD_TIME=unknown
ENV BUILD_COMMIT=$BUILD_COMMIT BUILD_TIME=$BUILD_TIME
# gthread workers sized by WEB_WORKERS x WEB_THREADS (gunicorn.conf.py; 2 x 4 by default).
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
