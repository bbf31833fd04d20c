"""Kept for tools and old imports: the grader's public API under its first name."""

from bot.core.grading import Grade, PointGrade, grade, prepare_cards, prepare_deck, verdict_for

__all__ = ["Grade", "PointGrade", "grade", "prepare_cards", "prepare_deck", "verdict_for"]
