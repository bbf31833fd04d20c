"""Derive the grader's general synonym and antonym table from WordNet, once.

Reads the WordNet 3.0 database files (Debian's ``wordnet-base``: /usr/share/wordnet) and writes
``bot/core/wordnet.tsv``, which the grader ships and reads; NLTK and WordNet are never needed at
run time. Only common single words are kept (``wordfreq`` Zipf frequency >= MIN_ZIPF), and only
senses people mostly mean:

- ``s`` lines, synonym groups: the lemmas of a word's most frequent sense (by WordNet's sense
  counts) that have it as their own most frequent sense too;
- ``a`` lines, antonym pairs: WordNet's antonym links between words, in every sense (an
  opposite must never match, so here more is safer), and an adjective cluster's satellites
  opposite the other head ("quick" against "slow");
- ``d`` lines, word families: forms WordNet derives from one another ("accurate",
  "accuracy"), common words beginning alike;
- ``n`` lines: words that can be nouns, and ``j`` lines: words that can be adjectives, to
  tell a modifier ("lower") from the word it modifies ("throughput"); ``v`` lines: words that
  can be verbs, to tell a verb ("get") from a noun in its place.

    python tools/derive_wordnet.py [--wordnet /usr/share/wordnet] [--out bot/core/wordnet.tsv]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from wordfreq import zipf_frequency

MIN_ZIPF = 3.0
ANTONYM_MIN_ZIPF = 2.5
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_WORD = re.compile(r"^[a-z]+(?:-[a-z]+)?$")


def common(word: str, floor: float = MIN_ZIPF) -> bool:
    return bool(_WORD.match(word)) and zipf_frequency(word, "en") >= floor


def read_synsets(folder: Path, pos: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """offset -> (lemmas, pointers (symbol, offset, pos, source, target))."""
    synsets: dict[str, tuple[list[str], list[tuple]]] = {}
    for line in (folder / f"data.{POS_FILES[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split(" | ")[0].split()
        offset, kind = fields[0], fields[2]
        count = int(fields[3], 16)
        lemmas = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]
        at = 4 + 2 * count
        pointers = []
        for _ in range(int(fields[at])):
            symbol, target, target_pos, numbers = fields[at + 1 : at + 5]
            source, goal = int(numbers[:2], 16), int(numbers[2:], 16)
            pointers.append((symbol, target, target_pos[0], source, goal))
            at += 4
        synsets[f"{pos}{offset}"] = (lemmas, pointers, kind)
    return synsets


def read_index(folder: Path, pos: str) -> dict[str, list[str]]:
    """lemma -> its synsets, most frequent sense first (only lemmas with tagged senses)."""
    senses: dict[str, list[str]] = {}
    for line in (folder / f"index.{POS_FILES[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, count, pointer_count = fields[0], int(fields[2]), int(fields[3])
        tagged = int(fields[5 + pointer_count])
        offsets = fields[6 + pointer_count : 6 + pointer_count + count]
        if tagged:
            senses[lemma] = [f"{pos}{offset}" for offset in offsets]
    return senses


def derive(
    folder: Path,
) -> tuple[list[list[str]], set[tuple[str, str]], set[str], set[str], set[str], list]:
    synsets: dict = {}
    index: dict[str, dict[str, list[str]]] = {}
    for pos in POS_FILES:
        synsets.update(read_synsets(folder, pos))
        index[pos] = read_index(folder, pos)
    groups: set[tuple[str, ...]] = set()
    for pos, senses in index.items():
        for lemma, offsets in senses.items():
            if not common(lemma):
                continue
            lemmas = synsets[offsets[0]][0]
            group = sorted(
                {
                    other
                    for other in lemmas
                    if common(other) and offsets[0] in index[pos].get(other, [])[:1]
                }
            )
            if len(group) >= 2:
                groups.add(tuple(group))
    antonyms: set[tuple[str, str]] = set()
    for lemmas, pointers, kind in synsets.values():
        for symbol, target, target_pos, source_number, target_number in pointers:
            if symbol != "!":
                continue
            other = synsets[f"{target_pos}{target}"]
            sources = [lemmas[source_number - 1]] if source_number else lemmas
            targets = [other[0][target_number - 1]] if target_number else other[0]
            heads = [(sources, targets)]
            if kind == "a":  # the satellites of a head adjective oppose the other head
                for similar, similar_offset, similar_pos, _, _ in pointers:
                    if similar == "&":
                        satellites = synsets[f"{similar_pos}{similar_offset}"][0]
                        heads.append((satellites, targets))
            for one_side, other_side in heads:
                for a in one_side:
                    for b in other_side:
                        if a != b and common(a, ANTONYM_MIN_ZIPF) and common(b, ANTONYM_MIN_ZIPF):
                            antonyms.add((min(a, b), max(a, b)))
    # derivationally related forms ("+"), attributes ("="), pertainyms ("\\"): "accuracy" /
    # "accurate", "computationally" / "computational"
    related: dict[str, set[str]] = {}
    for lemmas, pointers, _ in synsets.values():
        for symbol, target, target_pos, source_number, target_number in pointers:
            if symbol not in ("+", "=", "\\"):
                continue
            other = synsets[f"{target_pos}{target}"][0]
            sources = [lemmas[source_number - 1]] if source_number else lemmas
            targets = [other[target_number - 1]] if target_number else other
            for a in sources:
                for b in targets:
                    pair = (min(a, b), max(a, b))
                    alike = a != b and a[:3] == b[:3] and pair not in antonyms
                    if alike and common(a) and common(b):
                        related.setdefault(a, set()).add(b)
                        related.setdefault(b, set()).add(a)
    families = {tuple(sorted({word, *others})) for word, others in related.items()}
    opposed = {word for pair in antonyms for word in pair}
    clean: list[list[str]] = []
    for group in sorted(groups):
        kept = [
            word
            for word in group
            if word not in opposed
            or not any((min(word, o), max(word, o)) in antonyms for o in group)
        ]
        if len(kept) >= 2:
            clean.append(kept)
    nouns = {lemma for lemma in index["n"] if common(lemma)}
    adjectives = {lemma for lemma in index["a"] if common(lemma)}
    verbs = {lemma for lemma in index["v"] if common(lemma)}
    return clean, antonyms, nouns, adjectives, verbs, sorted(families)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--out", type=Path, default=root / "bot/core/wordnet.tsv")
    args = parser.parse_args()
    groups, antonyms, nouns, adjectives, verbs, families = derive(args.wordnet)
    lines = [
        "# Derived once from WordNet 3.0 by tools/derive_wordnet.py (WordNet 3.0 license,",
        "# Princeton University). s: synonyms; a: antonyms; d: word families; n: nouns;",
        "# j: adjectives; v: verbs.",
    ]
    lines += ["s\t" + " ".join(group) for group in groups]
    lines += [f"a\t{a}\t{b}" for a, b in sorted(antonyms)]
    lines += ["d\t" + " ".join(family) for family in families]
    for kind, words in (("n", sorted(nouns)), ("j", sorted(adjectives)), ("v", sorted(verbs))):
        for start in range(0, len(words), 12):
            lines.append(f"{kind}\t" + " ".join(words[start : start + 12]))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"synonym_groups: {len(groups)}")
    print(f"antonym_pairs: {len(antonyms)}")
    print(f"nouns: {len(nouns)}")
    print(f"adjectives: {len(adjectives)}")
    print(f"verbs: {len(verbs)}")
    print(f"word_families: {len(families)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
