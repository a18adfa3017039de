# The Telegram bot. Build:  docker build -t embassy-qa-bot .
# Run:   docker run -d --restart unless-stopped -e BOT_TOKEN=123456:ABC... -v embassy-bot-data:/data embassy-qa-bot
# Pinned to a Debian release: update the tag deliberately (e.g. to the next -slim-<release>) and rebuild.
# x86-64 only with SEMANTIC=on: the embedding model's engine is built for it (docker build --platform linux/amd64).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, exactly as locked (versions and hashes), so that a change to the
# code or the content does not reinstall them. Regenerate the lock after changing the
# dependencies in pyproject.toml (see README, "Dependencies"):
#   uv pip compile pyproject.toml -o requirements.lock --python-version 3.11 \
#       --python-platform x86_64-manylinux_2_28 --generate-hashes
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY bot/ bot/
COPY index/ index/
COPY content/ content/
# Bytecode compiled once at build, so that a start does not compile every module.
RUN python -m compileall -q bot index

# An unprivileged user; the statistics database lives in the /data volume.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin bot \
    && mkdir /data \
    && chown bot /data
ENV DATA_DIR=/data \
    INDEX_CACHE_DIR=/data/index-cache
VOLUME ["/data"]
USER bot

# Only used in webhook mode (WEBHOOK_URL set): the webhook and GET /healthz.
EXPOSE 8080

# Works in both modes: the running bot touches /data/heartbeat every 15 s; older than 60 s is unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["python", "-m", "bot", "health"]

# The bot handles SIGTERM (docker stop): it stops fetching, gives updates in progress
# SHUTDOWN_GRACE seconds (8, under docker stop's 10), and leaves the rest for the next start.
CMD ["python", "-m", "bot", "telegram"]
