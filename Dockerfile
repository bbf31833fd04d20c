# quizbot: the Telegram flashcard quiz bot. SQLite in the /data volume by default.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 quizbot \
    && mkdir /data \
    && chown quizbot:quizbot /data

COPY pyproject.toml README.md cards.yaml ./
COPY bot ./bot
RUN pip install .

ENV QUIZBOT_CARDS=/app/cards.yaml \
    DATABASE_URL=sqlite+aiosqlite:////data/quizbot.db
VOLUME ["/data"]
USER quizbot

# In webhook mode (WEBHOOK_URL set) `quizbot health` asks the running bot's own /healthz on
# PORT, so a hung process is unhealthy; with polling it checks that the database answers.
HEALTHCHECK --interval=30s --timeout=15s --start-period=20s --retries=3 \
    CMD ["quizbot", "health", "--timeout", "10"]

ENTRYPOINT ["quizbot"]
CMD ["run"]
