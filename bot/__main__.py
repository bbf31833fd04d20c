"""Allow ``python -m bot`` as a synonym for the ``quizbot`` console script."""

from bot.cli import main

raise SystemExit(main())
