# One image for web (gunicorn), worker and beat: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=dealer_crm.settings.production

WORKDIR /app

# The pinned dependencies first, so this layer is rebuilt only when pyproject.toml changes.
# (The project itself has no packages to install: its code runs from /app.)
COPY pyproject.toml README.md* ./
RUN pip install . && rm -rf build ./*.egg-info

COPY . .

# Static files are collected at build time; settings need their required variables, which
# are dummies here (nothing connects to a database or Redis during collectstatic).
RUN SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput --ignore fetch.sh

# Run as an unprivileged user; uploads go to the media volume (MEDIA_ROOT).
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin crm \
    && mkdir -p /app/var/media \
    && chown -R crm:crm /app/var/media
USER crm

EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY (number of workers) and FORWARDED_ALLOW_IPS from the env.
CMD ["gunicorn", "dealer_crm.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
