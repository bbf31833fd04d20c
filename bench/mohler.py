"""Benchmark: the grader on the Mohler et al. (2011) short-answer data set.

Each reference answer (``desired_answer``) becomes a Card whose points are its clauses, the
way an author would write them (see ``split_points``); every student answer is graded and the
grade's two-way alignment (``bot.core.grading.alignment``: how much of the points the answer
covers and
how much of the answer aligns with them, Sultan et al. 2016) is compared with the teachers'
average mark (``score_avg``, 0-5): Pearson r, and the RMSE of a least-squares line from our
figure to theirs. ``Grade.score`` (the share of points credited) is reported too. Nothing is
trained on Mohler's marks: the grader keeps the global settings it has for the bundled deck;
only the alignment's recall weight (F-beta) was chosen by comparing r. Figures for the other
splits are printed for comparison.

For reference: bag-of-words baselines reach r ≈ 0.43-0.48, Mohler et al. 2011's best ≈ 0.52,
Sultan et al. 2016 ≈ 0.59, and the two human graders agree with each other at r ≈ 0.60.

The data set is read from ``../shared/data/mohler/`` next to the repository and is never
copied into it; when it is absent the benchmark says so and exits cleanly.

    python bench/mohler.py [--quick] [--split word|phrase|clause|sentence|one]
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.grading import alignment, grade, prepare_cards
from bot.core.textnorm import Token, cue_length, mark_negations, tokenize
from bot.decks.loader import Card, Point

DATASET = Path(__file__).resolve().parents[2] / "shared/data/mohler/mohler_dataset_edited.csv"
#: The split reported first: one point per clause, as an author writes points.
DEFAULT_SPLIT = "clause"
SPLITS = ("word", "phrase", "clause", "sentence", "one")
#: Why the default split is the default, printed with the figures.
SPLIT_REASON = (
    "points the way an author writes them: a reference's clauses, cut at sentence ends, commas, "
    "semicolons, parentheses and conjunctions; the two-way alignment reads how much of each an "
    "answer states"
)
#: In --quick mode only every n-th student answer is graded.
QUICK_STRIDE = 10

_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+")
_CLAUSE_RE = re.compile(
    r"(?<=[.!?;:,])\s+|\s+(?:and|or|but|whereas|while|then)\s+|\s*\((?=[^)]*\))|\)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Row:
    question_id: str
    question: str
    reference: str
    answer: str
    score: float


def load_rows(path: Path = DATASET) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                raw["id"],
                raw["question"],
                raw["desired_answer"],
                raw["student_answer"],
                float(raw["score_avg"]),
            )
            for raw in csv.DictReader(handle)
        ]


def split_points(reference: str, split: str, question: str = "") -> list[Point]:
    """Cut a reference answer into the points a teacher would tick off.

    "word" makes each content word of the reference a point (once, in its first
    form; a hyphen compound is one word; a denied word keeps its "not": "not included").
    Mohler's marks are graded 0-5 and its references are one or two dense sentences, so a
    teacher's mark follows how much of the reference an answer states; the finer the points,
    the finer our score follows it. Words of the question are left out: the question gives
    them away, and a teacher would not list them as points. Two things keep what the split
    would otherwise lose of the sentence around a word:

    - a word weighs as many times as the reference says it ("function" said three times is
      what the reference is about), as if every mention were a point;
    - a word of a sentence that holds a negation may be said either way (the point gets the
      alias "not <word>"): where the "not" goes is the student's choice, "no base case" says
      "the base case is not included" (the denied word itself keeps its "not").

    "phrase" makes each key phrase a point: a run of content words between function words,
    e.g. "allocated dynamically", "base case", keeping a negation in front ("not included").
    Phrases made only of the question's words are left out.

    "clause" splits at sentence ends, commas, semicolons, parentheses and coordinating
    conjunctions; "sentence" at sentence ends; "one" keeps the whole reference as one point.
    Fragments without content words (``i.e.``) are merged into their neighbour.
    """
    if split == "one":
        return [Point(reference.strip())]
    if split == "phrase":
        return [Point(text) for text in _key_phrases(reference, question)]
    if split == "word":
        return _key_words(reference, question)
    pattern = _SENTENCE_RE if split == "sentence" else _CLAUSE_RE
    pieces = [piece.strip(" .;,") for piece in pattern.split(reference) if piece and piece.strip()]
    points: list[str] = []
    for piece in pieces:
        has_content = any(not token.stop for token in tokenize(piece))
        if points and not has_content:
            points[-1] = f"{points[-1]} {piece}"
        elif has_content:
            points.append(piece)
    return [Point(point) for point in points] or [Point(reference.strip())]


def _sentences(tokens: Sequence[Token]) -> list[int]:
    """The number of the sentence each token is in (cut at ".", "!", "?" and ";")."""
    numbers: list[int] = []
    number = 0
    for index, token in enumerate(tokens):
        if index and token.clause != tokens[index - 1].clause and token.after in ".!?;":
            number += 1
        numbers.append(number)
    return numbers


def _key_words(reference: str, question: str) -> list[Point]:
    tokens = tokenize(reference)
    mark_negations(tokens)
    sentence_of = _sentences(tokens)
    negative = {sentence_of[index] for index in range(len(tokens)) if cue_length(tokens, index)}
    words: list[tuple[list[Token], int]] = []  # (tokens, sentence)
    for index, token in enumerate(tokens):
        if words and token.link != " " and words[-1][0][-1].clause == token.clause:
            words[-1][0].append(token)  # "multi-dimensional" is one word
        else:
            words.append(([token], sentence_of[index]))
    given = {token.stem for token in tokenize(question) if not token.stop}
    said = Counter(token.stem for token in tokens if not token.stop)
    points: list[Point] = []
    seen: set[tuple[str, ...]] = set()
    for word, sentence in words:
        stems = tuple(token.stem for token in word if not token.stop)
        if not stems or stems in seen or all(stem in given for stem in stems):
            continue
        seen.add(stems)
        text = reference[word[0].start : word[-1].end]
        weight = max(said[stem] for stem in stems)
        if word[-1].negated:
            points.append(Point(f"not {text}", weight=weight))
        elif sentence in negative:
            points.append(Point(text, (f"not {text}",), weight=weight))
        else:
            points.append(Point(text, weight=weight))
    return points or [Point(reference.strip())]


def _key_phrases(reference: str, question: str) -> list[str]:
    tokens = tokenize(reference)
    mark_negations(tokens)
    runs: list[list[Token]] = []
    for index, token in enumerate(tokens):
        if token.stop:
            continue
        previous = tokens[index - 1] if index else None
        if (
            runs
            and previous is runs[-1][-1]
            and previous.clause == token.clause
            and previous.negated == token.negated
        ):
            runs[-1].append(token)
        else:
            runs.append([token])
    given = {token.stem for token in tokenize(question) if not token.stop}
    points: list[str] = []
    for run in runs:
        text = reference[run[0].start : run[-1].end]
        if run[0].negated:
            text = f"not {text}"
        repeated = text.casefold() in {point.casefold() for point in points}
        if repeated or all(token.stem in given for token in run):
            continue
        points.append(text)
    return points or [reference.strip()]


def build_cards(rows: Sequence[Row], split: str) -> dict[str, Card]:
    cards: dict[str, Card] = {}
    for row in rows:
        if row.question_id not in cards:
            points = split_points(row.reference, split, row.question)
            cards[row.question_id] = Card(id=row.question_id, question=row.question, points=points)
    return cards


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    return cov / math.sqrt(var_x * var_y) if var_x and var_y else 0.0


def fitted_rmse(xs: Sequence[float], ys: Sequence[float]) -> float:
    """RMSE of the least-squares line y = a + b·x (our score mapped onto the 0-5 marks)."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    slope = (
        sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
        if var_x
        else 0.0
    )
    intercept = mean_y - slope * mean_x
    residuals = [(y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True)]
    return math.sqrt(sum(residuals) / len(residuals))


def evaluate(rows: Sequence[Row], split: str) -> tuple[float, float, float, float]:
    """(Pearson r of the alignment, fitted RMSE, mean points per card, Pearson r of the
    credited share) for one way of splitting references."""
    cards = build_cards(rows, split)
    prepare_cards(cards.values())
    grades = [grade(cards[row.question_id], row.answer) for row in rows]
    ours = [alignment(cards[row.question_id], row.answer) for row in rows]
    theirs = [row.score for row in rows]
    points = sum(len(card.points) for card in cards.values()) / len(cards)
    credited = pearson([graded.score for graded in grades], theirs)
    return pearson(ours, theirs), fitted_rmse(ours, theirs), points, credited


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--split", choices=SPLITS, default=DEFAULT_SPLIT, help="point split")
    args = parser.parse_args(argv)
    if not DATASET.exists():
        print(f"mohler: skipped, data set not found at {DATASET}")
        return 0
    rows = load_rows()
    if args.quick:
        rows = rows[::QUICK_STRIDE]
    print(f"mohler_answers: {len(rows)}")
    print(f"mohler_questions: {len({row.question_id for row in rows})}")
    print(f"mohler_split: {args.split}")
    if args.split == DEFAULT_SPLIT:
        print(f"mohler_split_reason: {SPLIT_REASON}")
    for split in (args.split, *(other for other in SPLITS if other != args.split)):
        r, rmse, points, credited = evaluate(rows, split)
        prefix = "mohler" if split == args.split else f"mohler_{split}"
        print(f"{prefix}_points_per_card: {points:.2f}")
        print(f"{prefix}_pearson_r: {r:.3f}")
        print(f"{prefix}_rmse_fitted: {rmse:.3f}")
        print(f"{prefix}_credited_share_pearson_r: {credited:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
