# incidentbot: one image for the web replicas, the schedulers and the release step.
#   docker build -t incidentbot .
#   docker run --env-file .env incidentbot incidentbot db upgrade          # release
#   docker run --env-file .env -p 8080:8080 incidentbot                    # web (N replicas)
#   docker run --env-file .env incidentbot incidentbot scheduler           # scheduler (run 2)
# Python 3.11: the version constraints.txt was locked on.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first (a layer that survives code changes), then the code. The install is
# editable because migrations/, playbooks/ and postmortem_templates/ are read from the source tree.
# constraints.txt pins every dependency to the versions the test suite passed with (make lock).
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir bot && touch bot/__init__.py && pip install -c constraints.txt -e . && rm -rf bot
COPY bot ./bot
COPY migrations ./migrations
COPY playbooks ./playbooks
COPY postmortem_templates ./postmortem_templates
COPY slack_manifest.yaml incidentbot.example.yaml ./
RUN pip install --no-deps -e . && useradd --uid 10001 --no-create-home incidentbot

USER incidentbot
EXPOSE 8080 9108
CMD ["sh", "-c", "incidentbot serve --host 0.0.0.0 --port ${PORT:-8080} --no-in-process-scheduler"]
