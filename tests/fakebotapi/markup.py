"""Telegram-style parsing of formatted text, so tests fail where Telegram would.

The HTML parser follows the rules of Telegram's server-side parser (tdlib): only the
tags Telegram knows, properly nested, a few named entities plus numeric ones.  Errors
carry Telegram's wording ("Unsupported start tag "x" at byte offset N", ...), offsets
of entities are counted in UTF-16 code units exactly like the Bot API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Tag name -> entity type.  Tags not listed here are rejected like Telegram does.
_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(
    r"&(?:#(?:[xX](?P<hex>[0-9a-fA-F]{1,8})|(?P<dec>[0-9]{1,10}))|(?P<name>[a-zA-Z]+));?"
)
_TRIMMED_WHITESPACE = " \t\r\n\u00a0\u2028\u2029\ufeff"
_USER_LINK_RE = re.compile(r"^tg://user\?id=(\d+)$")


class EntityParseError(ValueError):
    """Formatted text Telegram would refuse with "can't parse entities: <reason>"."""


@dataclass
class FormattedText:
    """Plain text plus Bot API MessageEntity dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_length(text: str) -> int:
    """Length as the Bot API counts it (UTF-16 code units), used for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int] | None:
    """Decode the HTML entity at source[index] ('&'); return (character, next index)."""
    match = _ENTITY_RE.match(source, index)
    if match is None:
        return None
    if match["name"] is not None:
        if match["name"] not in _NAMED_ENTITIES or not match.group(0).endswith(";"):
            return None
        return _NAMED_ENTITIES[match["name"]], match.end()
    if not match.group(0).endswith(";"):
        return None
    code_point = int(match["hex"], 16) if match["hex"] is not None else int(match["dec"])
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        return None
    return chr(code_point), match.end()


@dataclass
class _OpenTag:
    name: str
    begin_index: int
    offset: int
    argument: str = ""
    expandable: bool = False


def parse_html(source: str, *, strict_ampersand: bool = True) -> FormattedText:
    """Parse Telegram HTML into plain text and entities, raising EntityParseError like TG.

    ``strict_ampersand`` rejects a bare '&' that starts no entity.  Telegram itself keeps
    such an '&' literally, but its documentation requires escaping it, and a bot that
    forgets to escape '&' usually forgets '<' too, so tests want to hear about it.
    """
    pieces: list[str] = []
    utf16_offset = 0
    open_tags: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    size = len(source)
    i = 0

    def emit(text: str) -> None:
        nonlocal utf16_offset
        pieces.append(text)
        utf16_offset += utf16_length(text)

    def error(reason: str) -> EntityParseError:
        return EntityParseError(reason)

    while i < size:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                emit(decoded[0])
                i = decoded[1]
                continue
            if strict_ampersand:
                raise error(f'Unescaped "&" at byte offset {_byte_offset(source, i)}')
            emit(char)
            i += 1
            continue
        if char != "<":
            emit(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < size and source[i] == "/":
            i = _parse_end_tag(source, begin, i + 1, open_tags, entities, utf16_offset)
            continue
        name_begin = i
        while i < size and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= size:
            raise error(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        tag_name = source[name_begin:i].lower()
        if tag_name not in _HTML_TAGS:
            raise error(
                f'Unsupported start tag "{tag_name}" at byte offset {_byte_offset(source, begin)}'
            )
        tag = _OpenTag(tag_name, begin, utf16_offset)
        i = _parse_attributes(source, begin, i, tag)
        if tag_name == "span" and tag.argument != "spoiler":
            raise error(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        if tag_name == "tg-emoji" and not tag.argument.isdigit():
            raise error(
                'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        open_tags.append(tag)

    if open_tags:
        raise error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return FormattedText("".join(pieces), entities)


def _parse_attributes(source: str, begin: int, i: int, tag: _OpenTag) -> int:
    """Read the attributes of a start tag; return the index after its '>'."""
    size = len(source)

    def unclosed() -> EntityParseError:
        return EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")

    while True:
        while i < size and source[i].isspace():
            i += 1
        if i >= size:
            raise unclosed()
        if source[i] == ">":
            return i + 1
        name_begin = i
        while i < size and not source[i].isspace() and source[i] not in "=>":
            i += 1
        attribute = source[name_begin:i].lower()
        if not attribute:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag.name}" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        while i < size and source[i].isspace():
            i += 1
        if i >= size:
            raise unclosed()
        if source[i] != "=":
            if tag.name == "blockquote" and attribute == "expandable":
                tag.expandable = True
            continue
        i += 1
        while i < size and source[i].isspace():
            i += 1
        if i >= size:
            raise unclosed()
        if source[i] in "'\"":
            quote = source[i]
            i += 1
            value_chars: list[str] = []
            while i < size and source[i] != quote:
                if source[i] == "&":
                    decoded = _decode_entity(source, i)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                        continue
                value_chars.append(source[i])
                i += 1
            if i >= size:
                raise unclosed()
            i += 1
            value = "".join(value_chars)
        else:
            token_begin = i
            while i < size and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            value = source[token_begin:i].lower()
            if i >= size:
                raise unclosed()
            if not source[i].isspace() and source[i] != ">":
                raise EntityParseError(
                    "Unexpected end of name token at byte offset "
                    f"{_byte_offset(source, token_begin)}"
                )
        _apply_attribute(tag, attribute, value)


def _apply_attribute(tag: _OpenTag, attribute: str, value: str) -> None:
    """Keep the attributes Telegram uses; ignore the rest, as Telegram does."""
    if tag.name == "a" and attribute == "href":
        tag.argument = value
    elif tag.name == "code" and attribute == "class" and value.startswith("language-"):
        tag.argument = value.removeprefix("language-")
    elif tag.name == "span" and attribute == "class" and value.startswith("tg-"):
        tag.argument = value.removeprefix("tg-")
    elif tag.name == "tg-emoji" and attribute == "emoji-id":
        tag.argument = value
    elif tag.name == "blockquote" and attribute == "expandable":
        tag.expandable = True


def _parse_end_tag(
    source: str,
    begin: int,
    i: int,
    open_tags: list[_OpenTag],
    entities: list[dict[str, Any]],
    utf16_offset: int,
) -> int:
    """Close the innermost open tag (creating its entity); return the index after '>'."""
    size = len(source)
    if not open_tags:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
    name_begin = i
    while i < size and not source[i].isspace() and source[i] != ">":
        i += 1
    end_tag_name = source[name_begin:i].lower()
    while i < size and source[i].isspace():
        i += 1
    if i >= size or source[i] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
    tag = open_tags[-1]
    if end_tag_name and end_tag_name != tag.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
            f'expected "</{tag.name}>", found "</{end_tag_name}>"'
        )
    open_tags.pop()
    length = utf16_offset - tag.offset
    if length > 0:
        entity = _make_entity(tag, length, entities)
        if entity is not None:
            entities.append(entity)
    return i + 1


def _make_entity(
    tag: _OpenTag, length: int, entities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    entity_type = _HTML_TAGS[tag.name]
    entity: dict[str, Any] = {"offset": tag.offset, "length": length, "type": entity_type}
    if tag.name == "a":
        user_link = _USER_LINK_RE.match(tag.argument)
        if user_link:
            user = {"id": int(user_link[1]), "is_bot": False, "first_name": "User"}
            return {"offset": tag.offset, "length": length, "type": "text_mention", "user": user}
        if not tag.argument:
            return None
        entity["url"] = tag.argument
    elif tag.name == "code" and tag.argument:
        entity["language"] = tag.argument
    elif tag.name == "pre":
        # <pre><code class="language-x">...</code></pre> becomes one pre entity with language.
        inner = entities[-1] if entities else None
        if (
            inner is not None
            and inner["type"] == "code"
            and inner["offset"] == tag.offset
            and inner["length"] == length
        ):
            entities.pop()
            if "language" in inner:
                entity["language"] = inner["language"]
    elif tag.name == "blockquote" and tag.expandable:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.argument
    return entity


def trim_formatted(formatted: FormattedText) -> FormattedText:
    """Drop leading/trailing whitespace like Telegram, shifting entities to match."""
    text = formatted.text
    stripped_front = text.lstrip(_TRIMMED_WHITESPACE)
    lead = utf16_length(text[: len(text) - len(stripped_front)])
    new_text = stripped_front.rstrip(_TRIMMED_WHITESPACE)
    new_length = utf16_length(new_text)
    entities: list[dict[str, Any]] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_length)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(new_text, entities)


# ---------------------------------------------------------------------------------------------
# MarkdownV2
# ---------------------------------------------------------------------------------------------

_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_DELIMITERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse MarkdownV2 the way Telegram does, including its reserved-character errors."""
    pieces: list[str] = []
    utf16_offset = 0
    entities: list[dict[str, Any]] = []
    open_marks: list[tuple[str, int, int]] = []  # (delimiter, utf16 offset, byte offset)
    size = len(source)
    i = 0
    link_open: list[tuple[int, int]] = []  # (utf16 offset, byte offset) of '['

    def emit(text: str) -> None:
        nonlocal utf16_offset
        pieces.append(text)
        utf16_offset += utf16_length(text)

    while i < size:
        char = source[i]
        if char == "\\" and i + 1 < size and 0 < ord(source[i + 1]) <= 126:
            emit(source[i + 1])
            i += 2
            continue
        if char in "`":
            i = _parse_markdown_code(source, i, emit, entities, lambda: utf16_offset)
            continue
        if char == "[":
            link_open.append((utf16_offset, _byte_offset(source, i)))
            i += 1
            continue
        if char == "]" and link_open:
            start, _ = link_open.pop()
            i += 1
            if i < size and source[i] == "(":
                url_chars: list[str] = []
                j = i + 1
                while j < size and source[j] != ")":
                    if source[j] == "\\" and j + 1 < size:
                        j += 1
                    url_chars.append(source[j])
                    j += 1
                if j >= size:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(source, i)}"
                    )
                url = "".join(url_chars)
                i = j + 1
            else:
                url = ""
            if utf16_offset > start and url:
                entities.append(
                    {
                        "offset": start,
                        "length": utf16_offset - start,
                        "type": "text_link",
                        "url": url,
                    }
                )
            continue
        delimiter = None
        if source.startswith("__", i):
            delimiter = "__"
        elif source.startswith("||", i):
            delimiter = "||"
        elif char in "*_~":
            delimiter = char
        if delimiter is not None:
            if open_marks and open_marks[-1][0] == delimiter:
                _, start, _ = open_marks.pop()
                if utf16_offset > start:
                    entities.append(
                        {
                            "offset": start,
                            "length": utf16_offset - start,
                            "type": _MARKDOWN_V2_DELIMITERS[delimiter],
                        }
                    )
            elif any(mark[0] == delimiter for mark in open_marks):
                raise EntityParseError(
                    f"Can't find end of {_MARKDOWN_V2_DELIMITERS[open_marks[-1][0]].title()} "
                    f"entity at byte offset {open_marks[-1][2]}"
                )
            else:
                open_marks.append((delimiter, utf16_offset, _byte_offset(source, i)))
            i += len(delimiter)
            continue
        if char == ">" and (i == 0 or source[i - 1] == "\n"):
            i += 1  # blockquote line marker: accepted, not modelled as an entity
            continue
        if char in _MARKDOWN_V2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(char)
        i += 1

    if open_marks:
        delimiter, _, byte_offset = open_marks[-1]
        raise EntityParseError(
            f"Can't find end of {_MARKDOWN_V2_DELIMITERS[delimiter].title()} entity at byte "
            f"offset {byte_offset}"
        )
    if link_open:
        raise EntityParseError(
            f"Can't find end of a TextUrl entity at byte offset {link_open[-1][1]}"
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return FormattedText("".join(pieces), entities)


def _parse_markdown_code(
    source: str,
    i: int,
    emit: Callable[[str], None],
    entities: list[dict[str, Any]],
    offset: Callable[[], int],
) -> int:
    """Parse `code` or ```pre``` starting at source[i]; return the index after it."""
    is_pre = source.startswith("```", i)
    fence = "```" if is_pre else "`"
    start_byte = _byte_offset(source, i)
    j = i + len(fence)
    language = ""
    if is_pre:
        newline = source.find("\n", j)
        closing = source.find("```", j)
        if newline != -1 and (closing == -1 or newline < closing):
            language = source[j:newline].strip()
            j = newline + 1
    content: list[str] = []
    while j < len(source) and not source.startswith(fence, j):
        if source[j] == "\\" and j + 1 < len(source) and source[j + 1] in "`\\":
            content.append(source[j + 1])
            j += 2
            continue
        content.append(source[j])
        j += 1
    if j >= len(source):
        kind = "Pre" if is_pre else "Code"
        raise EntityParseError(f"Can't find end of {kind} entity at byte offset {start_byte}")
    start = offset()
    text = "".join(content)
    emit(text)
    if text:
        entity: dict[str, Any] = {
            "offset": start,
            "length": utf16_length(text),
            "type": "pre" if is_pre else "code",
        }
        if language:
            entity["language"] = language
        entities.append(entity)
    return j + len(fence)
