"""Benchmark: how closely the grader agrees with a teacher's labels.

Grades every answer of a labelled set (``bench/data/<set>_answers.yaml``) against the bundled
deck and prints one ``name: value`` figure per line: point-level precision, recall and F1,
verdict agreement overall and per kind, the false-credit rate, then the worst disagreements.
``--no-aliases`` grades against the same cards with every alias removed, as a deck imported
from Anki or Quizlet would be. ``--all`` prints the summary figures of every labelled set, with
and without aliases, marking which sets the grader was tuned on; the worst disagreements of a
held-out set are listed only when ``--worst`` asks for them. It then runs the Mohler
short-answer benchmark (``bench/mohler.py``) unless ``--no-mohler`` is given.

    python bench/grading_quality.py [--set NAME] [--no-aliases] [--all] [--quick]
                                    [--no-mohler] [--worst N]
"""

from __future__ import annotations

import argparse
import dataclasses
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

from bot.core.cards import Deck, Point  # noqa: E402
from bot.core.grading import Grade, grade, prepare_deck, verdict_for  # noqa: E402
from bot.decks.loader import BUNDLED_CARDS, Card, load_deck  # noqa: E402

DATA = BENCH / "data"
SET_SUFFIX = "_answers.yaml"

#: The kind of answer that is no attempt at all (idk, ?, emoji).
JUNK_KIND = "junk"

#: In --quick mode only every n-th labelled answer is graded.
QUICK_STRIDE = 5

#: Disagreements listed for a tuning set unless --worst says otherwise.
DEFAULT_WORST = 10

#: Sets the grader was tuned on, looking at its failures: their figures flatter it.
TUNING_SETS = ("dev", "heldout", "dev_nearmiss")
#: Sets written blind and run only to report: the honest test of generalisation.
HELD_OUT_SETS = ("heldout2", "blind3", "nearmiss")


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


@dataclass(frozen=True)
class Summary:
    """The headline figures of one graded set."""

    answers: int
    #: Points the teacher credited: with none (a near-miss set) recall and F1 mean nothing.
    labelled_points: int
    precision: float
    recall: float
    f1: float
    agreement: float
    #: Answers a teacher gives no point, and how many of them the grader credited anyway.
    no_point_answers: int
    falsely_credited: int
    #: The same leaving out junk (idk, ?, emoji), which no grader credits: the wrong answers.
    no_point_attempts: int
    attempts_falsely_credited: int

    @property
    def false_credit(self) -> float:
        return self.falsely_credited / self.no_point_answers if self.no_point_answers else 0.0

    @property
    def false_credit_attempts(self) -> float:
        attempts = self.no_point_attempts
        return self.attempts_falsely_credited / attempts if attempts else 0.0


def available_sets() -> list[str]:
    """Every labelled set under bench/data, by name."""
    return sorted(path.name.removesuffix(SET_SUFFIX) for path in DATA.glob(f"*{SET_SUFFIX}"))


def set_role(name: str) -> str:
    """Whether a set is tuning data or held out (unknown sets are neither)."""
    if name in TUNING_SETS:
        return "tuning"
    if name in HELD_OUT_SETS:
        return "held_out"
    return "unclassified"


def without_aliases(deck: Deck) -> Deck:
    """The same deck with every point's aliases removed: what a deck nobody tuned looks like.

    Cards are new objects with empty caches, so grading data prepared for the original deck
    (including anything it derived from the aliases) is not reused.
    """
    cards = [
        dataclasses.replace(
            card,
            points=[Point(point.text, (), point.weight) for point in card.points],
            cache={},
        )
        for card in deck.cards
    ]
    return dataclasses.replace(deck, cards=cards)


def bundled_deck(aliases: bool = True) -> Deck:
    """The bundled deck, prepared for grading, with or without its aliases."""
    deck = load_deck(BUNDLED_CARDS)
    if not aliases:
        deck = without_aliases(deck)
    prepare_deck(deck)
    return deck


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


def summarise(outcomes: Sequence[Outcome]) -> Summary:
    """Point-level P/R/F1, verdict agreement and the false-credit rate of graded answers."""
    true_pos = false_pos = false_neg = 0
    for outcome in outcomes:
        true_pos += len(outcome.got & outcome.item.credited)
        false_pos += len(outcome.got - outcome.item.credited)
        false_neg += len(outcome.item.credited - outcome.got)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    agreement = sum(outcome.agrees for outcome in outcomes) / len(outcomes) if outcomes else 0.0
    no_point = [outcome for outcome in outcomes if not outcome.item.credited]
    attempts = [outcome for outcome in no_point if outcome.item.kind != JUNK_KIND]
    return Summary(
        answers=len(outcomes),
        labelled_points=true_pos + false_neg,
        precision=precision,
        recall=recall,
        f1=f1,
        agreement=agreement,
        no_point_answers=len(no_point),
        falsely_credited=sum(bool(outcome.got) for outcome in no_point),
        no_point_attempts=len(attempts),
        attempts_falsely_credited=sum(bool(outcome.got) for outcome in attempts),
    )


def print_summary(summary: Summary, prefix: str = "") -> None:
    print(f"{prefix}answers: {summary.answers}")
    print(f"{prefix}point_precision: {summary.precision:.3f}")
    if summary.labelled_points:
        print(f"{prefix}point_recall: {summary.recall:.3f}")
        print(f"{prefix}point_f1: {summary.f1:.3f}")
    else:
        print(f"{prefix}point_recall: n/a (no point labelled)")
        print(f"{prefix}point_f1: n/a (no point labelled)")
    print(f"{prefix}verdict_agreement: {summary.agreement:.3f}")
    print(
        f"{prefix}false_credit: {summary.false_credit:.3f}"
        f" ({summary.falsely_credited}/{summary.no_point_answers})"
    )
    print(
        f"{prefix}false_credit_not_junk: {summary.false_credit_attempts:.3f}"
        f" ({summary.attempts_falsely_credited}/{summary.no_point_attempts})"
    )


def agreement_by_kind(outcomes: Sequence[Outcome]) -> dict[str, tuple[float, int]]:
    """Verdict agreement and answer count per kind of answer."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.item.kind].append(outcome)
    return {
        kind: (sum(outcome.agrees for outcome in group) / len(group), len(group))
        for kind, group in sorted(by_kind.items())
    }


def report(outcomes: Sequence[Outcome], worst: int) -> None:
    """Print the summary, verdict agreement per kind, the confusions and the worst cases."""
    print_summary(summarise(outcomes))
    for kind, (share, count) in agreement_by_kind(outcomes).items():
        print(f"verdict_agreement_{kind}: {share:.3f} ({count})")

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


def set_path(name: str) -> Path:
    return DATA / f"{name}{SET_SUFFIX}"


def read_set(name: str, deck: Deck, quick: bool) -> list[Labelled]:
    items = load_labelled(set_path(name), deck.by_id)
    return items[::QUICK_STRIDE] if quick else items


def report_all(quick: bool) -> None:
    """The summary of every labelled set, with the deck's aliases and without them.

    Lines read ``<set>.<aliases|no_aliases>.<figure>: value``; each set's role (tuning or
    held out) is printed first, tuning sets first. ``held_out_pooled`` pools every held-out
    set present: the figures to hold against the targets. No single answer is printed.
    """
    names = sorted(available_sets(), key=lambda name: (set_role(name) != "tuning", name))
    for name in names:
        print(f"{name}.role: {set_role(name)}")
    for aliases in (True, False):
        deck = bundled_deck(aliases)
        deck_name = "aliases" if aliases else "no_aliases"
        pooled: list[Outcome] = []
        for name in names:
            outcomes = evaluate(read_set(name, deck, quick))
            if set_role(name) == "held_out":
                pooled.extend(outcomes)
            prefix = f"{name}.{deck_name}."
            print_summary(summarise(outcomes), prefix)
            for kind, (share, count) in agreement_by_kind(outcomes).items():
                print(f"{prefix}verdict_agreement_{kind}: {share:.3f} ({count})")
        if pooled:
            print_summary(summarise(pooled), f"held_out_pooled.{deck_name}.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        default="dev",
        help=f"labelled set bench/data/<set>{SET_SUFFIX} (have: {', '.join(available_sets())})",
    )
    parser.add_argument(
        "--no-aliases", action="store_true", help="grade against the deck with aliases removed"
    )
    parser.add_argument(
        "--all", action="store_true", help="summary of every set, with and without aliases"
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--no-mohler", action="store_true", help="skip the Mohler benchmark")
    parser.add_argument(
        "--worst",
        type=int,
        default=None,
        help="disagreements to list (default 10; 0 for held-out sets, so nobody tunes on them)",
    )
    args = parser.parse_args(argv)

    if args.all:
        report_all(args.quick)
    else:
        path = set_path(args.set)
        if not path.exists():
            print(f"labelled_set: missing ({path.relative_to(BENCH.parent)}), skipped")
        else:
            deck = bundled_deck(aliases=not args.no_aliases)
            print(f"labelled_set: {args.set}")
            print(f"labelled_set_role: {set_role(args.set)}")
            print(f"deck: {'no_aliases' if args.no_aliases else 'aliases'}")
            worst = args.worst
            if worst is None:
                worst = 0 if set_role(args.set) == "held_out" else DEFAULT_WORST
            report(evaluate(read_set(args.set, deck, args.quick)), worst)
    if not args.no_mohler:
        mohler.main(["--quick"] if args.quick else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
