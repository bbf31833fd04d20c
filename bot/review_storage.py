"""Tables and queries for spaced repetition and reminders (filled by the review feature)."""
