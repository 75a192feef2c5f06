# incidentbot: one image for a single container, or for the web replicas, the schedulers and
# the release step of a scaled-out deployment.
#
#   docker build -t incidentbot .
#
# Single container (the default command; SQLite in the /data volume): the schema is upgraded,
# then `serve` answers Slack on $PORT (8080) AND runs the scheduler in-process (reminders,
# retries). Keep /data on a named volume so the database outlives the container:
#   docker run --env-file .env -v incidentbot-data:/data -p 8080:8080 incidentbot
#
# Scaled out (PostgreSQL, DATABASE_URL=postgresql+psycopg://…; the Procfile's process types):
#   docker run --env-file .env incidentbot incidentbot db upgrade               # release, once
#   docker run --env-file .env -p 8080:8080 incidentbot \
#     incidentbot serve --host 0.0.0.0 --port 8080 --no-in-process-scheduler   # web, N replicas
#   docker run --env-file .env --no-healthcheck incidentbot incidentbot scheduler   # run 2
# (A scheduler serves no /healthz: turn the image's HEALTHCHECK off for it, as above.)

# Stage 1: the wheel. The shipped playbooks, post-mortem templates, Slack manifest and
# migrations go inside it (setup.py, bot/package_data.py), so the image needs no source tree.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY bot ./bot
COPY playbooks ./playbooks
COPY postmortem_templates ./postmortem_templates
COPY slack_manifest.yaml ./
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the image. Python 3.11: the version constraints.txt was locked on.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/incidentbot.db

# Dependencies first (a layer that survives code changes): pyproject's runtime requirements,
# pinned by constraints.txt to the versions the test suite passed with (make lock).
COPY pyproject.toml constraints.txt /tmp/deps/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/deps/requirements.txt \
    && pip install -c /tmp/deps/constraints.txt -r /tmp/deps/requirements.txt

COPY --from=wheel /wheels /tmp/wheels
RUN pip install -c /tmp/deps/constraints.txt /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/deps \
    && useradd --uid 10001 --no-create-home incidentbot \
    && mkdir /data && chown incidentbot:incidentbot /data

# /data: the SQLite default and its lock file, writable by the non-root user.
WORKDIR /data
VOLUME /data
USER incidentbot
EXPOSE 8080 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"
CMD ["sh", "-c", "incidentbot db upgrade && exec incidentbot serve --host 0.0.0.0 --port ${PORT:-8080}"]
