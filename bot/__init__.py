"""quizbot: a Telegram flashcard quiz bot that grades free-text answers point by point."""

__version__ = "0.1.0"

import os as _os

# Opt in to python-telegram-bot's timedelta durations (RetryAfter.retry_after and friends), the
# behaviour PTB 22 announces as its future default; without it PTB warns on every 429.
_os.environ.setdefault("PTB_TIMEDELTA", "true")
