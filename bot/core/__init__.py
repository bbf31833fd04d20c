"""Pure rules: cards, text normalisation, grading, quiz and challenge rules, scheduling,
reminders and flood control. No I/O, no ``telegram``, no SQLAlchemy; callers pass ``now``."""
