"""Lone surrogates: strings a JSON parser accepts that are not Unicode text.

json.loads takes an unpaired escape such as "\\ud800" (and, from bytes, its raw UTF-8 or
UTF-16 form) as a str holding a lone surrogate, which cannot be encoded as UTF-8: an answer
quoting or storing it failed with a UnicodeEncodeError, a 500. A body holding one is refused
with a 422 naming where it is (app/routes/bodies.py); `printable` makes any text safe to quote."""

import re

# What a body holding a lone surrogate must contain: a \uD800–\uDFFF escape, its UTF-8 form
# (ED A0–BF: json.loads decodes bytes with surrogatepass), or NUL bytes (UTF-16 or UTF-32:
# their JSON's quotes and braces are ASCII, so NULs). Anything else needs no walk.
CANDIDATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]|\x00")
LONE = re.compile("[\ud800-\udfff]")
MOST = 20   # places named at most (app/routes/guards.py lists as many problems)


def may_hold(body: bytes) -> bool:
    """Whether the JSON bytes `body` may parse to a lone surrogate (a fast scan, no parse)."""
    return CANDIDATE.search(body) is not None


def printable(text: str) -> str:
    """`text` with each lone surrogate written as its escape (\\ud800): encodable as UTF-8."""
    if LONE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def found(value) -> list[dict]:
    """Where parsed JSON `value` holds a lone surrogate, in a key or a string, in document
    order: validation errors as pydantic gives them, loc under "body" (at most MOST)."""
    errors = []
    stack = [((), value)]
    while stack and len(errors) < MOST:
        path, item = stack.pop()
        if isinstance(item, str) and LONE.search(item):
            errors.append(_error(path, item))
        elif isinstance(item, dict):
            for key in reversed(item):
                if LONE.search(key):   # the key itself: its value is never looked at
                    stack.append(((*path, key), key))
                else:
                    stack.append(((*path, key), item[key]))
        elif isinstance(item, list):
            stack.extend(((*path, n), item[n]) for n in range(len(item) - 1, -1, -1))
    return errors


def _error(path: tuple, text: str) -> dict:
    at = ".".join(str(part) for part in path) or "body"
    lone = LONE.search(text).group()
    return {
        "type": "string_unicode",
        "loc": ("body", *path),
        "msg": printable(f"{at}: must be Unicode text; {lone} is a lone surrogate "
                         f"(half of a UTF-16 pair), not a character"),
        "input": text,
    }
