"""A JSON body's shape, measured on its raw bytes before anything is parsed.

json.loads builds every item of a list before the model can say the list is too long: a
4 MB body of 10⁶ items cost seconds and gigabytes in a worker (issue 20, row 2). So a body is
measured first, as NumPy arrays over its bytes (linear, ~10 ms a MB, no Python object per
item): the strings are found exactly (a quote ends a string unless an odd run of backslashes
precedes it), and outside them each list's items are counted by its commas and each
container's depth by its brackets. A list longer than the longest any field of the route's
model allows (the models bound every list: app/schemas/bounds.py), or a nesting deeper than
the model's, is refused with a 422 naming where it is, in pydantic's own form.

A body that is not valid JSON is measured as well as it can be (a refusal, if any, is a 422 all
the same); json.loads then says what is wrong with it.
"""

import json
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from pydantic import BaseModel

OPEN_LIST, OPEN_OBJECT, CLOSE_LIST, CLOSE_OBJECT, COMMA = 1, 2, 3, 4, 5
CODES = np.zeros(256, np.int8)   # each byte's structural meaning, 0: none
for _char, _code in zip("[{]},", (OPEN_LIST, OPEN_OBJECT, CLOSE_LIST, CLOSE_OBJECT, COMMA),
                        strict=True):
    CODES[ord(_char)] = _code
DEPTH_CHANGE = np.array([0, 1, 1, -1, -1, 0], np.int8)   # by code
QUOTE, BACKSLASH = ord('"'), ord("\\")
# Lists and objects this short cost nothing to build: the model refuses them by its own rules
# (an object of duplicate keys, say, which JSON allows); only longer ones are refused here.
CHEAP_ITEMS = 1000


@dataclass(frozen=True)
class Bounds:
    """What a model allows at most: items in any one list (or members in an object), and
    containers nested in one another, the body itself counted (None: no bound)."""

    items: int | None
    depth: int | None


@cache
def bounds(model: type[BaseModel]) -> Bounds:
    """The model's bounds, from its JSON schema: the largest maxItems of any list in it (at
    least CHEAP_ITEMS), and its deepest nesting (a list without maxItems, or a schema that
    refers to itself: None)."""
    schema = _schema(model)
    items, depth = _walk(schema, schema.get("$defs", {}), frozenset())
    return Bounds(None if math.isinf(items) else max(int(items), CHEAP_ITEMS),
                  None if math.isinf(depth) else int(depth))


@cache
def _schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema()


def _walk(node: dict, defs: dict, seen: frozenset) -> tuple[float, float]:
    """(the largest maxItems, the deepest nesting) in a JSON schema node."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return (math.inf, math.inf) if name in seen else _walk(defs[name], defs, seen | {name})
    children = [*node.get("anyOf", ()), *node.get("oneOf", ()), *node.get("allOf", ())]
    kind = node.get("type")
    items = 0.0
    if kind == "array":
        items = node.get("maxItems", math.inf)
        children.append(node.get("items", {}))
    elif kind == "object":
        children += node.get("properties", {}).values()
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) or (extra is not False and "properties" not in node):
            items = math.inf   # a mapping: members without a bound
            children.append(extra if isinstance(extra, dict) else {})
    if kind == "array" and "items" not in node:
        return math.inf, math.inf   # items of any kind, lists as deep as they come
    found = [_walk(child, defs, seen) for child in children]
    deepest = max((depth for _, depth in found), default=0)
    return (max([items, *(most for most, _ in found)]),
            deepest + (kind in ("array", "object")))


def refusal(body: bytes, model: type[BaseModel]) -> dict | None:
    """A pydantic-style error (type, loc, msg, ctx) for the first list longer than the model
    lets any list be, or the first container nested deeper than it allows; None: neither."""
    most = bounds(model)
    if most.items is None and most.depth is None:
        return None
    if json.detect_encoding(body) not in ("utf-8", "utf-8-sig"):
        # UTF-16 or 32, as json.loads reads them: measured as UTF-8, whose multi-byte
        # characters never hold an ASCII byte (a quote, a bracket)
        try:
            body = body.decode(json.detect_encoding(body)).encode("utf-8", "surrogatepass")
        except UnicodeError:
            return None   # json.loads refuses it
    tokens = _structure(body)
    kinds = tokens.kinds
    depth = np.cumsum(DEPTH_CHANGE[kinds], dtype=np.int32)   # after each token
    if most.depth is not None and kinds.size and depth.max() > most.depth:
        at = int(np.argmax(depth > most.depth))
        return {"type": "too_deep", "loc": _path(body, tokens, depth, at),
                "msg": f"Lists and objects may be nested {most.depth} deep here, not deeper",
                "ctx": {"max_depth": most.depth}}
    if most.items is None:
        return None
    # the container each token belongs to, by its depth: a closing bracket's is one deeper
    level = depth + ((kinds == CLOSE_LIST) | (kinds == CLOSE_OBJECT))
    found = _longest(kinds, level, most.items)
    if found is None:
        return None
    at, count = found
    path = _path(body, tokens, depth, at)
    bound = _bound_at(_schema(model), path) or most.items
    what = "List" if kinds[at] == OPEN_LIST else "Object"
    return {"type": "too_long", "loc": path,
            "msg": f"{what} should have at most {bound} items after validation, not {count}",
            "ctx": {"field_type": what, "max_length": bound,
                                   "actual_length": count}}


@dataclass(frozen=True)
class Tokens:
    """The body's brackets and commas outside strings: where each is, and which it is."""

    where: np.ndarray
    kinds: np.ndarray


def _structure(body: bytes) -> Tokens:
    raw = np.frombuffer(body, np.uint8)
    quotes = raw == QUOTE
    _drop_escaped(raw, quotes)
    # inside a string after an odd number of quotes: the parity survives uint8's wrapping
    inside = np.cumsum(quotes, dtype=np.uint8)
    del quotes
    inside &= 1
    codes = CODES[raw]
    codes[inside.view(bool)] = 0
    del inside
    where = np.flatnonzero(codes)
    return Tokens(where, codes[where])


def _drop_escaped(raw: np.ndarray, quotes: np.ndarray) -> None:
    """Unmark the quotes an odd run of backslashes escapes (\\" and \\\\\\"; not \\\\")."""
    slashes = np.flatnonzero(raw == BACKSLASH)
    if not slashes.size:
        return
    breaks = np.flatnonzero(np.diff(slashes) != 1)
    ends = np.append(slashes[breaks], slashes[-1])
    starts = np.insert(slashes[breaks + 1], 0, slashes[0])
    after = ends + 1
    escapes = ((ends - starts) % 2 == 0) & (after < raw.size)   # an odd run
    quotes[after[escapes]] = False   # only where a quote is: the byte after is not a slash


def _longest(kinds: np.ndarray, level: np.ndarray, most: int) -> tuple[int, int] | None:
    """The first container (the index of its opening token) holding more than `most` items
    (its commas + 1), and how many; None: there is none."""
    first = None
    for depth in range(1, int(level.max(initial=0)) + 1):
        mine = np.flatnonzero(level == depth)
        kind = kinds[mine]
        opens = (kind == OPEN_LIST) | (kind == OPEN_OBJECT)
        owner = np.cumsum(opens) - 1   # the container of this depth each token is in
        commas = owner[(kind == COMMA) & (owner >= 0)]
        counts = np.bincount(commas, minlength=int(opens.sum())) + 1
        over = np.flatnonzero(counts > most)
        if over.size:
            at = int(mine[np.flatnonzero(opens)[over[0]]])
            if first is None or at < first[0]:
                first = (at, int(counts[over[0]]))
    return first


def _path(body: bytes, tokens: Tokens, depth: np.ndarray, at: int) -> list:
    """The loc of the container opened by token `at`: the keys and indices leading to it."""
    kinds, where = tokens.kinds, tokens.where
    path = []
    while depth[at] > 1:
        outer = depth[at] - 1
        before = np.flatnonzero(depth[:at] == outer)   # tokens of the container it is in
        opener = before[np.flatnonzero(kinds[before] <= OPEN_OBJECT)[-1]]
        if kinds[opener] == OPEN_LIST:
            path.append(int(np.count_nonzero(kinds[opener + 1:at][
                depth[opener + 1:at] == outer] == COMMA)))
        else:   # the member's key: the string between the last comma (or brace) and it
            path.append(_key(body[where[before[-1]] + 1:where[at]]))
        at = int(opener)
    return path[::-1]


def _key(between: bytes) -> str:
    try:
        return json.JSONDecoder().raw_decode(between.decode("utf-8", "replace").lstrip())[0]
    except ValueError:
        return "?"


def _bound_at(schema: dict, path: list) -> int | None:
    """maxItems of the list the schema expects at `path`; None where it cannot tell."""
    defs = schema.get("$defs", {})
    node = schema
    for part in [*path, None]:
        node = _resolved(node, defs, "array" if isinstance(part, int) or part is None
                         else "object")
        if node is None or part is None:
            break
        node = (node.get("items", {}) if isinstance(part, int)
                else node.get("properties", {}).get(part))
        if node is None:
            return None
    return node.get("maxItems") if node is not None else None


def _resolved(node: dict, defs: dict, kind: str) -> dict | None:
    """The node itself, its $ref's target, or its variant of type `kind`."""
    if "$ref" in node:
        node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
    if node.get("type") == kind:
        return node
    for variant in node.get("anyOf", node.get("oneOf", ())):
        found = _resolved(variant, defs, kind)
        if found is not None:
            return found
    return None
