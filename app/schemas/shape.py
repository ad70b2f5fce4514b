"""A JSON body's shape, measured on its raw bytes before anything is parsed.

json.loads builds every item of a list before the model can say the list is too long: a
4 MB body of 10⁶ items cost seconds and gigabytes in a worker (issue 20, row 2). So a body is
measured first, as NumPy arrays over its bytes, a chunk at a time (linear: a 4 MB body in
tens of ms with a few MB of arrays, no Python object per item; the measure stops at the first
list past the bound). The strings are found exactly (a quote ends a string unless an odd run
of backslashes precedes it), and outside them each list's items are counted by its commas
and each container's depth by its brackets. A list longer than the longest any field of the
route's model allows (the models bound every list: app/schemas/bounds.py), or a nesting
deeper than the model's, is refused with a 422 naming where it is, in pydantic's own form.

A body that is not valid JSON is measured as well as it can be (a refusal, if any, is a 422 all
the same); json.loads then says what is wrong with it.
"""

import copy
import json
import math
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

import numpy as np
from pydantic import BaseModel

from app.schemas.bounds import state_limits

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


LIMITS = ("max_hidden_layers", "max_neurons", "max_points", "max_steps")


@cache
def _configured(model: type[BaseModel], limits: tuple | None) -> dict:
    """The model's schema with the configured limits, as /openapi.json shows them."""
    schema = copy.deepcopy(_schema(model))
    if limits is not None:
        models = {**schema.get("$defs", {}), model.__name__: schema}
        state_limits({"components": {"schemas": models}},
                     SimpleNamespace(**dict(zip(LIMITS, limits, strict=True))))
    return schema


def _walk(node: dict, defs: dict, seen: frozenset) -> tuple[float, float]:
    """(the largest maxItems, the deepest nesting) in a JSON schema node."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return (math.inf, math.inf) if name in seen else _walk(defs[name], defs, seen | {name})
    if not node.keys() & {"type", "anyOf", "oneOf", "allOf", "enum", "const"}:
        return math.inf, math.inf   # any JSON value at all
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


def refusal(body: bytes, model: type[BaseModel], settings=None) -> dict | None:
    """A pydantic-style error (type, loc, msg, ctx) for the first list longer than the model
    lets any list be, or the first container nested deeper than it allows; None: neither.
    `settings` (app/config.py): the configured limits the message quotes for the field."""
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
    found = _measure(body, most)
    if found is None:
        return None
    problem, path, at = found
    if problem == "too_deep":
        return {"type": "too_deep", "loc": path,
                "msg": f"Lists and objects may be nested {most.depth} deep here, not deeper",
                "ctx": {"max_depth": most.depth}}
    limits = None if settings is None else tuple(getattr(settings, name) for name in LIMITS)
    bound = _bound_at(_configured(model, limits), path) or most.items
    what = "List" if body[at] == ord("[") else "Object"
    # counted no further than needed: the rest of the list is never looked at
    return {"type": "too_long", "loc": path,
            "msg": f"{what} should have at most {bound} items after validation, not more "
                   f"than {most.items:,} (counting stopped there)",
            "ctx": {"field_type": what, "max_length": bound}}


CHUNK = 2**18   # bytes measured at once: the arrays made for them stay a few MB


@dataclass(frozen=True)
class Chunk:
    """A chunk's brackets and commas outside strings: where (from `offset`), which, and the
    depth after each (the body itself is depth 1), with the container each belongs to."""

    offset: int
    where: np.ndarray
    kinds: np.ndarray
    after: np.ndarray

    @property
    def level(self) -> np.ndarray:
        """The depth of the container each token belongs to (a closing bracket's: its own)."""
        return self.after + ((self.kinds == CLOSE_LIST) | (self.kinds == CLOSE_OBJECT))


def _chunks(body: bytes, start: int = 0):
    """The body's Chunks from `start` (outside any string) on, a CHUNK of bytes at a time."""
    raw = np.frombuffer(body, np.uint8)
    inside_string, depth = 0, 0
    while start < raw.size:
        end = _chunk_end(raw, start)
        chunk = raw[start:end]
        quotes = chunk == QUOTE
        _drop_escaped(chunk, quotes)
        # inside a string after an odd number of quotes: the parity survives uint8's wrapping
        inside = np.cumsum(quotes, dtype=np.uint8)
        del quotes
        inside += inside_string
        inside &= 1
        inside_string = int(inside[-1])
        codes = CODES[chunk]
        codes[inside.view(bool)] = 0
        del inside
        where = np.flatnonzero(codes)
        kinds = codes[where]
        after = np.cumsum(DEPTH_CHANGE[kinds], dtype=np.int32)
        after += depth
        yield Chunk(start, where, kinds, after)
        depth = int(after[-1]) if after.size else depth
        start = end


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


def _chunk_end(raw: np.ndarray, start: int) -> int:
    """Where the chunk from `start` ends: never just after a backslash, so that each run of
    them, and the quote it may escape, is in one chunk."""
    end = min(start + CHUNK, raw.size)
    if raw[end - 1] != BACKSLASH:
        return end
    plain = np.flatnonzero(raw[start:end] != BACKSLASH)
    if plain.size:
        return start + int(plain[-1]) + 1
    rest = raw[end:] != BACKSLASH   # a chunk of backslashes: on to the first other byte
    return end + int(np.argmax(rest)) + 1 if rest.any() else raw.size


@dataclass
class Open:
    """A container still open where a chunk ends: its bracket's place and kind, its commas so
    far, and the place of its last comma (or of its bracket)."""

    at: int
    kind: int
    commas: int
    separator: int


def _measure(body: bytes, most: Bounds) -> tuple[str, list, int] | None:
    """The first container nested deeper than most.depth, or else the first holding more than
    most.items: ("too_deep" or "too_long", its loc, its bracket's place); None: neither."""
    state: dict[int, Open] = {}   # by depth: the containers open at a chunk's start
    for chunk in _chunks(body):
        kinds, after = chunk.kinds, chunk.after
        if not kinds.size:
            continue
        if after.min() < 0:
            return None   # a bracket closed that was never opened: json.loads says so
        level = chunk.level
        if most.depth is not None and after.max() > most.depth:
            t = int(np.argmax(after > most.depth))
            return "too_deep", _path(body, state, chunk, level, t, int(after[t])), \
                int(chunk.offset + chunk.where[t])
        opens = (kinds == OPEN_LIST) | (kinds == OPEN_OBJECT)
        commas = kinds == COMMA
        depths = np.flatnonzero(np.bincount(level[opens | commas], minlength=1))
        first = None   # (its bracket's place, its depth, its token here or -1: carried in)
        counted = {}
        for d in depths.tolist():
            mine = level == d
            o, c = np.flatnonzero(mine & opens), np.flatnonzero(mine & commas)
            before = np.searchsorted(c, o)   # the commas before each opening here
            counted[d] = (o, c, before)
            carried = state.get(d)
            ahead = int(before[0]) if o.size else c.size   # the carried container's
            if (most.items is not None and carried is not None
                    and carried.commas + ahead + 1 > most.items):
                first = min(first or (carried.at, d, -1), (carried.at, d, -1))
            if most.items is not None and o.size:
                over = np.flatnonzero(np.diff(np.append(before, c.size)) + 1 > most.items)
                if over.size:
                    t = int(o[over[0]])
                    here = (int(chunk.offset + chunk.where[t]), d, t)
                    first = min(first or here, here)
        if first is not None:
            at, d, t = first
            return "too_long", _path(body, state, chunk, level, t, d), at
        for d, (o, c, before) in counted.items():
            if o.size:
                last = int(o[-1])
                separator = max(last, int(c[-1]) if c.size else last)
                place = chunk.offset + chunk.where
                state[d] = Open(int(place[last]), int(kinds[last]), int(c.size - before[-1]),
                                int(place[separator]))
            elif d in state and c.size:
                state[d].commas += c.size
                state[d].separator = int(chunk.offset + chunk.where[c[-1]])
    return None


def _path(body: bytes, state: dict, chunk: Chunk, level: np.ndarray, t: int, d: int) -> list:
    """The loc of the container at depth d opened by the chunk's token t (-1: by state[d],
    carried in from an earlier chunk): the keys and indices leading to it."""
    kinds, where, offset = chunk.kinds, chunk.where, chunk.offset
    child = int(offset + where[t]) if t >= 0 else state[d].at
    limit = max(t, 0)   # the chunk's tokens before the child
    path = []
    for k in range(d - 1, 0, -1):
        mine = np.flatnonzero(level[:limit] == k)
        opened = mine[kinds[mine] <= OPEN_OBJECT]
        if opened.size:   # opened in this chunk
            a = int(opened[-1])
            mine = mine[mine > a]
            opener, kind, commas = int(offset + where[a]), int(kinds[a]), 0
            separator = opener
            limit = a
        elif k in state:   # carried in, as are all around it
            opener, kind, commas, separator = (state[k].at, state[k].kind, state[k].commas,
                                               state[k].separator)
            limit = 0
        else:
            break   # not JSON: json.loads says where
        mine = mine[kinds[mine] == COMMA]
        commas += mine.size
        separator = int(offset + where[mine[-1]]) if mine.size else separator
        path.append(commas if kind == OPEN_LIST else _key(body[separator + 1:child]))
        child = opener
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
