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

# Dependencies first, from pyproject.toml alone, so that a change to the code or the
# content does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

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

# The bot handles SIGTERM (docker stop) and exits cleanly.
CMD ["python", "-m", "bot", "telegram"]
