"""Benchmark: how closely the grader agrees with a teacher's labels.

Grades every answer of a labelled set (``bench/data/<set>_answers.yaml``) against the bundled
deck and prints one ``name: value`` figure per line: point-level precision, recall and F1,
verdict agreement overall and per kind, then the worst disagreements. It then runs the Mohler
short-answer benchmark (``bench/mohler.py``) unless ``--no-mohler`` is given.

    python bench/grading_quality.py [--set dev|heldout|heldout2] [--quick] [--no-mohler]
                                    [--worst N]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import mohler  # noqa: E402
import yaml  # noqa: E402

from bot.core.grading import Grade, grade, prepare_deck, verdict_for  # noqa: E402
from bot.decks.loader import BUNDLED_CARDS, Card, load_deck  # noqa: E402

#: In --quick mode only every n-th labelled answer is graded.
QUICK_STRIDE = 5


@dataclass(frozen=True)
class Labelled:
    """One labelled answer: the card, what the student typed, and what a teacher credits."""

    card: Card
    kind: str
    answer: str
    credited: frozenset[int]
    why: str | None


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    grade: Grade
    expected_verdict: str
    expected_score: float

    @property
    def agrees(self) -> bool:
        return self.grade.verdict == self.expected_verdict

    @property
    def got(self) -> frozenset[int]:
        return frozenset(point.index for point in self.grade.points if point.matched)


def load_labelled(path: Path, cards: dict[str, Card]) -> list[Labelled]:
    """Read a labelled answer set; unknown cards and out-of-range points are errors."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items: list[Labelled] = []
    for number, raw in enumerate(data["answers"]):
        card = cards.get(str(raw["card"]))
        if card is None:
            raise SystemExit(f"{path.name}: answer {number}: unknown card {raw['card']!r}")
        credited = frozenset(int(index) for index in raw.get("credited") or ())
        if any(not 0 <= index < len(card.points) for index in credited):
            raise SystemExit(f"{path.name}: answer {number}: point index out of range")
        answer = "" if raw.get("answer") is None else str(raw["answer"])
        items.append(Labelled(card, str(raw["kind"]), answer, credited, raw.get("why")))
    return items


def evaluate(items: Sequence[Labelled]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for item in items:
        flags = [index in item.credited for index in range(len(item.card.points))]
        expected_score, expected_verdict = verdict_for(item.card, flags)
        outcomes.append(
            Outcome(item, grade(item.card, item.answer), expected_verdict, expected_score)
        )
    return outcomes


def report(outcomes: Sequence[Outcome], worst: int) -> None:
    """Print point-level P/R/F1, verdict agreement overall and per kind, and the worst cases."""
    true_pos = false_pos = false_neg = 0
    for outcome in outcomes:
        true_pos += len(outcome.got & outcome.item.credited)
        false_pos += len(outcome.got - outcome.item.credited)
        false_neg += len(outcome.item.credited - outcome.got)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    agreement = sum(outcome.agrees for outcome in outcomes) / len(outcomes)
    print(f"answers: {len(outcomes)}")
    print(f"point_precision: {precision:.3f}")
    print(f"point_recall: {recall:.3f}")
    print(f"point_f1: {f1:.3f}")
    print(f"verdict_agreement: {agreement:.3f}")

    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.item.kind].append(outcome)
    for kind in sorted(by_kind):
        group = by_kind[kind]
        share = sum(outcome.agrees for outcome in group) / len(group)
        print(f"verdict_agreement_{kind}: {share:.3f} ({len(group)})")

    confusion = Counter((o.expected_verdict, o.grade.verdict) for o in outcomes if not o.agrees)
    for (expected, got), count in sorted(confusion.items()):
        print(f"confusion_{expected}_as_{got}: {count}")

    def badness(outcome: Outcome) -> tuple[int, float, int]:
        wrong_points = len(outcome.got ^ outcome.item.credited)
        return (
            not outcome.agrees,
            abs(outcome.grade.score - outcome.expected_score),
            wrong_points,
        )

    disagreements = [o for o in outcomes if not o.agrees or o.got != o.item.credited]
    disagreements.sort(key=badness, reverse=True)
    print(f"worst_disagreements: {min(worst, len(disagreements))}")
    for outcome in disagreements[:worst]:
        item = outcome.item
        print(
            f"  - {item.card.id} [{item.kind}] {item.answer[:100]!r}\n"
            f"    expected {outcome.expected_verdict} {sorted(item.credited)}"
            f" got {outcome.grade.verdict} {sorted(outcome.got)}"
            f" similarities {[round(p.similarity, 2) for p in outcome.grade.points]}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set", choices=("dev", "heldout", "heldout2"), default="dev", help="labelled set"
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--no-mohler", action="store_true", help="skip the Mohler benchmark")
    parser.add_argument("--worst", type=int, default=10, help="disagreements to list")
    args = parser.parse_args(argv)

    deck = load_deck(BUNDLED_CARDS)
    prepare_deck(deck)
    path = BENCH / "data" / f"{args.set}_answers.yaml"
    if not path.exists():
        print(f"labelled_set: missing ({path.relative_to(BENCH.parent)}), skipped")
    else:
        items = load_labelled(path, deck.by_id)
        if args.quick:
            items = items[::QUICK_STRIDE]
        print(f"labelled_set: {args.set}")
        report(evaluate(items), args.worst)
    if not args.no_mohler:
        mohler.main(["--quick"] if args.quick else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
