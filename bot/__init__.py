"""quizbot: a Telegram flashcard quiz bot that grades free-text answers point by point."""

__version__ = "0.1.0"
