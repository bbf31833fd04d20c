"""Allow ``python -m bot`` as a synonym for the ``quizbot`` console script."""

from bot.cli import main

# Guarded: child processes (see bot.decks.loader) import this module without running the CLI.
if __name__ == "__main__":
    raise SystemExit(main())
