"""What users see of their own decks: upload results, /decks, a deck's panel, groups' choice.

Pure functions, no Telegram import. Deck names and problems come from users' files, so every
one of them is escaped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.core.cards import Deck
from bot.services.catalogue import deck_hash
from bot.services.decks import (
    DeckListing,
    DeckNotice,
    OwnerOverrides,
    UploadRejected,
    UploadSaved,
)
from bot.storage.decks import UserDeckRow
from bot.telegram.render import Reply, clip, deck_data, esc, fit

#: Problems listed in the reply to a broken file (the rest are counted).
SHOWN_PROBLEMS = 20
#: "I was right" answers quoted per card.
QUOTED_OVERRIDES = 3
#: Where a deck's panel buttons start; ``k:<action>:<deck row id>``.
PANEL_PREFIX = "k:"
GROUP_PREFIX = "gd:"
OPEN, RENAME, REPLACE, SHARE, REVOKE, DOWNLOAD, DELETE, DELETE_SURE, KEEP = (
    "o",
    "n",
    "r",
    "s",
    "v",
    "y",
    "d",
    "D",
    "x",
)
#: The prompt a rename answers; the deck's row id follows it, so a reply finds its deck.
RENAME_MARK = "✏️ New name for deck #"


def panel_data(action: str, deck_id: int) -> str:
    return f"{PANEL_PREFIX}{action}:{deck_id}"


def _size(bytes_count: int) -> str:
    return (
        f"{bytes_count / (1024 * 1024):g} MB"
        if bytes_count >= 1024 * 1024
        else f"{bytes_count // 1024} KB"
    )


NOTICES = {
    "rate": "⏳ You have uploaded many decks in the last hour. Try again in {n} minute(s).",
    "too_many_decks": "📚 You have {n} deck(s), the most one person can keep. "
    "Delete one in /decks first (or upload a file with the id of one you have, to replace it).",
    "not_found": "That deck is not there any more. Send /decks to see yours.",
    "bad_name": "A deck name needs 1 to {n} characters. Try again: reply with the new name.",
    "unknown_link": "That deck link does not work: the owner revoked it or deleted the deck.",
    "duplicate": "",
}


def notice(result: DeckNotice) -> str:
    if result.kind == "too_big":
        return (
            f"📦 That file is too big: decks can be up to {_size(result.detail)}. "
            "Split it into smaller decks."
        )
    return NOTICES[result.kind].format(n=result.detail)


def rejected(result: UploadRejected) -> str:
    shown = result.problems[:SHOWN_PROBLEMS]
    more = len(result.problems) - len(shown)
    lines = "\n".join(f"• {esc(clip(problem, 300))}" for problem in shown)
    tail = f"\n…and {more} more." if more > 0 else ""
    return fit(
        f"❌ <b>{esc(clip(result.file_name, 80))}</b> was not imported; nothing changed.\n"
        f"Fix these and send it again:\n{lines}{tail}"
    )


def saved(result: UploadSaved) -> Reply:
    row = result.deck
    if result.replaced:
        head = f"🔁 Replaced <b>{esc(row.name)}</b> (version {row.version}): {esc(result.summary)}."
        kept = f"\nHistory and review schedule kept for {result.kept} card(s)"
        head += kept + (f"; {result.removed} card(s) left the deck." if result.removed else ".")
    else:
        head = f"✅ Added <b>{esc(row.name)}</b>: {esc(result.summary)}."
    text = f"{head}\nYour next /quiz uses it. Manage it in /decks."
    return Reply(text, [[("▶️ Start quiz", "start"), ("⚙️ Manage", panel_data(OPEN, row.deck_id))]])


def listing(view: DeckListing, catalogue_get: dict[str, Deck]) -> Reply:
    lines = ["📚 <b>Decks</b>", "", "<b>Bundled</b>"]
    for deck in view.bundled:
        mark = "▶️" if deck.id == view.current else "•"
        lines.append(f"{mark} {esc(deck.name)} — {len(deck.cards)} cards")
    buttons: list[list[tuple[str, str]]] = []
    if view.owned:
        lines += ["", "<b>Your decks</b>"]
        for row in view.owned:
            mark = "▶️" if row.key == view.current else "•"
            shared = " 🔗" if row.share_code else ""
            lines.append(f"{mark} {esc(row.name)} — {esc(row.summary)}{shared}")
            buttons.append([(f"⚙️ {clip(row.name, 40)}", panel_data(OPEN, row.deck_id))])
    if view.added:
        lines += ["", "<b>Shared with you</b>"]
        for row in view.added:
            mark = "▶️" if row.key == view.current else "•"
            lines.append(f"{mark} {esc(row.name)} — {esc(row.summary)}")
    choosable = [
        *view.bundled,
        *(catalogue_get[row.key] for row in view.added if row.key in catalogue_get),
    ]
    choosable += [catalogue_get[row.key] for row in view.owned if row.key in catalogue_get]
    if len(choosable) > 1:
        buttons += [[(f"▶️ {clip(deck.name, 40)}", deck_data(deck))] for deck in choosable]
    lines += [
        "",
        "Send me a file to add a deck: our YAML, CSV or TSV (Anki, Quizlet), "
        "plain-text flashcards, or an Anki package (.apkg).",
    ]
    return Reply(fit("\n".join(lines)), buttons)


def panel(row: UserDeckRow, deck: Deck | None) -> Reply:
    lines = [f"⚙️ <b>{esc(row.name)}</b> (id <code>{esc(row.slug)}</code>, version {row.version})"]
    lines.append(esc(row.summary))
    lines.append("🔗 Shared by link" if row.share_code else "🔒 Only you can use it")
    buttons = [
        [
            ("✏️ Rename", panel_data(RENAME, row.deck_id)),
            ("🔁 Replace", panel_data(REPLACE, row.deck_id)),
        ],
        [
            ("🔗 Share link", panel_data(SHARE, row.deck_id)),
            ("⬇️ Download YAML", panel_data(DOWNLOAD, row.deck_id)),
        ],
        [("🗑 Delete", panel_data(DELETE, row.deck_id))],
    ]
    if row.share_code:
        buttons[1].insert(1, ("🚫 Revoke link", panel_data(REVOKE, row.deck_id)))
    if deck is not None:
        buttons.insert(0, [("▶️ Use for my rounds", deck_data(deck))])
    return Reply("\n".join(lines), buttons)


def rename_prompt(row: UserDeckRow) -> str:
    return f"{RENAME_MARK}{row.deck_id} (now “{esc(row.name)}”): reply to this message with it."


def renamed(row: UserDeckRow) -> str:
    return f"✏️ Renamed to <b>{esc(row.name)}</b>."


def replace_hint(row: UserDeckRow) -> str:
    return (
        f"🔁 To replace <b>{esc(row.name)}</b>, send me a file whose deck id is "
        f"<code>{esc(row.slug)}</code> (in YAML, the <code>id:</code> line; for other formats, "
        f"name the file <code>{esc(row.slug)}.csv</code>, .txt or .apkg). Cards that keep their "
        "ids keep their history and review schedule."
    )


def confirm_delete(row: UserDeckRow) -> Reply:
    return Reply(
        f"🗑 Delete <b>{esc(row.name)}</b>? It leaves your list and the lists of everyone you "
        "shared it with; its link stops working. Scores already earned stay.",
        [
            [
                ("🗑 Yes, delete it", panel_data(DELETE_SURE, row.deck_id)),
                ("Keep it", panel_data(KEEP, row.deck_id)),
            ]
        ],
    )


def deleted(row: UserDeckRow) -> str:
    return f"🗑 Deleted <b>{esc(row.name)}</b>."


def share_link(row: UserDeckRow, bot_username: str) -> Reply:
    url = f"https://t.me/{bot_username}?start=deck_{row.share_code}"
    return Reply(
        f"🔗 Anyone who opens this link adds <b>{esc(row.name)}</b> to their decks:\n{esc(url)}\n"
        "Revoke it in the deck's panel when it should stop working.",
        [[("🚫 Revoke link", panel_data(REVOKE, row.deck_id))]],
    )


def revoked(row: UserDeckRow) -> str:
    return (
        f"🚫 The link to <b>{esc(row.name)}</b> no longer works. "
        "Those who added it already keep it."
    )


def added(row: UserDeckRow, deck: Deck | None) -> Reply:
    size = f" ({len(deck.cards)} cards)" if deck is not None else ""
    return Reply(
        f"📚 Added <b>{esc(row.name)}</b>{size} to your decks. Your next /quiz uses it.",
        [[("▶️ Start quiz", "start")]],
    )


def overrides(found: list[OwnerOverrides]) -> str:
    if not found:
        return "No “I was right” overrides on your decks yet."
    lines = ["🙋 <b>“I was right” on your decks</b>"]
    for entry in found:
        lines += ["", f"📚 <b>{esc(entry.deck_name)}</b> ({len(entry.answers)})"]
        by_card: dict[str, list[str]] = defaultdict(list)
        for answer in entry.answers:
            by_card[answer.card_id].append(answer.answer_text or "")
        for card_id, texts in sorted(by_card.items(), key=lambda item: -len(item[1])):
            lines.append(f"<b>{esc(card_id)}</b>: {len(texts)}")
            lines += [f"   “{esc(clip(text, 150))}”" for text in texts[-QUOTED_OVERRIDES:]]
    return fit("\n".join(lines))


# --- groups -----------------------------------------------------------------------------------


def group_choice(current: Deck | None, decks: Sequence[Deck]) -> Reply:
    now = f"<b>{esc(current.name)}</b>" if current else "none yet (each starter's own deck)"
    text = (
        f"📚 This group's deck for /challenge and the question of the day: {now}.\n"
        "A chat admin can pick one:"
    )
    buttons = [[(clip(deck.name, 50), f"{GROUP_PREFIX}{deck_hash(deck)}")] for deck in decks]
    return Reply(fit(text), buttons)


def group_chosen(deck: Deck, by: str) -> str:
    return (
        f"📚 {esc(by)} picked <b>{esc(deck.name)}</b> for this group's challenges and "
        "question of the day."
    )


GROUP_ADMINS_ONLY = "Only a chat admin can pick the group's deck."
DOWNLOAD_FAILED = "I could not download that file from Telegram. Please send it again."
