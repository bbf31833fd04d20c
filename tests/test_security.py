"""Security properties checked on the code itself: parameterised SQL, escaped output."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.decks.loader import Card, Point
from bot.services.quiz import FeedbackView, PointResult
from bot.telegram import render
from tests.fakebotapi.markup import parse_html

PACKAGE = Path(__file__).resolve().parents[1] / "bot"
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany"}


#: Functions allowed to build DDL text: a migration adding columns can bind no identifiers, so
#: it names only columns of our own ``metadata``, quoted by the dialect.
DDL_BUILDERS = {"_add_columns"}


def _dynamic_sql_calls(path: Path) -> list[str]:
    """Calls that pass SQL built with f-strings, % or + instead of bound parameters."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name in DDL_BUILDERS
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args or id(node) in allowed:
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        first = node.args[0]
        dynamic = isinstance(first, ast.JoinedStr) or (
            isinstance(first, ast.BinOp) and isinstance(first.op, ast.Mod | ast.Add)
        )
        if name in SQL_CALLS and dynamic:
            found.append(f"{path.name}:{node.lineno}")
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_sql_is_never_built_from_strings_in_the_package(path: Path) -> None:
    assert _dynamic_sql_calls(path) == []


HOSTILE = [
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "</b><b>bold",
    "&lt;b&gt; & &amp;",
    "<i>unclosed",
    "x" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_quoted_in_feedback_can_never_inject_markup(text: str) -> None:
    card = Card(id="c", question="What <is> this & that?", points=[Point("a <b> point")])
    view = FeedbackView(
        answer_id=1,
        round_id=1,
        position=0,
        total=1,
        card=card,
        outcome="answered",
        verdict="partial",
        score=0.5,
        points=5,
        hints=0,
        results=[PointResult(text="a <b> point", matched=True, evidence=text)],
        overridden=False,
        is_last=True,
    )
    html = render.feedback(view).html
    parsed = parse_html(html)  # raises on anything Telegram would refuse
    assert "<script>" not in html
    assert "<a " not in html
    assert not any(entity["type"] == "text_link" for entity in parsed.entities)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_display_name_is_escaped_everywhere_it_is_shown(name: str) -> None:
    for html in (render.welcome(name).html,):
        parsed = parse_html(html)
        assert name[:50] in parsed.text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_deck_name_typed_in_challenge_is_shown_as_text(text: str) -> None:
    from bot.telegram import render_group

    for html in (
        render_group.unknown_deck(text, ["Systems for ML", "<b>odd</b> deck"]),
        render_group.ambiguous_deck(text, ["Systems for ML", "Systems & more"]),
    ):
        parsed = parse_html(html)  # raises on anything Telegram would refuse
        assert text[:50] in parsed.text
        assert not parsed.entities or all(entity["type"] == "bold" for entity in parsed.entities)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_user_deck_is_shown_as_text_in_every_deck_message(text: str) -> None:
    from bot.core.cards import Deck
    from bot.services.decks import DeckListing, OwnerOverrides, UploadRejected, UploadSaved
    from bot.storage.base import AnswerRow
    from bot.storage.decks import UserDeckRow
    from bot.telegram import render_decks

    row = UserDeckRow(7, 1, "geo", text, 2, text, 3, "code", False, 5)
    deck = Deck(id=row.key, name=text, cards=[])
    answer = AnswerRow(
        1,
        1,
        0,
        2,
        2,
        row.key,
        text,
        text,
        "answered",
        "wrong",
        0.0,
        0,
        0,
        [],
        True,
        datetime.now(UTC),
    )
    for html in (
        render_decks.saved(UploadSaved(row, text, replaced=True, kept=1, removed=1)).html,
        render_decks.rejected(UploadRejected(text, (text, f"line 3: {text}"))),
        render_decks.listing(DeckListing([deck], [row], [row], row.key), {row.key: deck}).html,
        render_decks.panel(row, deck).html,
        render_decks.rename_prompt(row),
        render_decks.share_link(row, "QuizBot").html,
        render_decks.added(row, deck).html,
        render_decks.overrides([OwnerOverrides(text, [answer])]),
        render_decks.group_choice(deck, [deck]).html,
        render_decks.group_chosen(deck, text),
    ):
        parsed = parse_html(html)  # raises on anything Telegram would refuse
        assert text[:40] in parsed.text
        assert not any(entity["type"] == "text_link" for entity in parsed.entities)
