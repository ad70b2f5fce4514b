"""Lessons: YAML files, the bundled ones and a teacher's own (BACKPROP_LESSONS_DIR), read and
checked whenever asked for (a teacher who edits one sees it on the next load). A file with an
error gets problems that name the file, the line and the field, from the YAML nodes' marks;
never a blank page."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ValidationError

from app.classroom.lesson_actions import ACTIONS, SESSION_STARTS
from app.schemas.lesson import LessonFile

SUFFIXES = (".yaml", ".yml")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_FILE_BYTES = 256 * 1024
# Maths is cut out before Markdown sees it (Markdown would eat `_`, `*` and `\\` in TeX) and
# put back as elements that static/lesson.js hands to KaTeX: $$…$$ displayed, $…$ inline.
MATHS = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$", re.DOTALL)
MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("table")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class LessonError(Exception):
    """A lesson that cannot be shown or run; `problems` say where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Action:
    name: str
    args: BaseModel
    line: int
    field: str      # e.g. slides[2].do[0].play_until, for a problem found while it runs


@dataclass(frozen=True)
class Slide:
    title: str
    narration: str
    actions: list[Action]
    loss: str | None = None      # which loss the narration means: "before" or "after" the update
    pace: float | None = None    # steps a second while the slide plays

    @property
    def highlight(self) -> dict | None:
        chosen = [a.args.target() for a in self.actions if a.name == "highlight"]
        return chosen[-1] if chosen else None


@dataclass(frozen=True)
class Lesson:
    name: str
    file: str
    title: str
    description: str
    slides: list[Slide] = field(default_factory=list)
    digest: str = ""    # of the file's text: a slide's state kept is for this version only

    def start(self) -> dict:
        """The SessionConfig the lesson's session opens with: its first preset or config."""
        for slide in self.slides:
            for action in slide.actions:
                if action.name in SESSION_STARTS:
                    return SESSION_STARTS[action.name](action.args)
        return {}


# --- reading ---------------------------------------------------------------------------


def names(folders: Sequence[Path]) -> list[str]:
    """Lesson names (file stems) in the folders, sorted, each once; a missing folder has none."""
    return sorted({
        p.stem for folder in folders if folder.is_dir()
        for p in folder.iterdir() if p.suffix in SUFFIXES and NAME.match(p.stem)
    })


def path_of(folders: Sequence[Path], name: str) -> Path | None:
    """The file of lesson `name` in the first folder that has one."""
    if not NAME.match(name):
        return None
    for folder in folders:
        for suffix in SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                return path
    return None


def load(folders: Sequence[Path], name: str) -> Lesson | None:
    """The lesson `name`, None when there is no such file; LessonError when it is broken."""
    path = path_of(folders, name)
    if path is None:
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LessonError([Problem(path.name, 1, "(file)", f"over {MAX_FILE_BYTES} bytes")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise LessonError([Problem(path.name, 1, "(file)", f"not UTF-8 text: {err}")]) from None
    return parse(text, name, path.name)


def parse(text: str, name: str, file: str) -> Lesson:
    """A lesson from YAML text; LessonError naming file, line and field for each problem."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise LessonError([Problem(file, line, "(YAML)", _yaml_message(err))]) from None
    except yaml.YAMLError as err:
        raise LessonError([Problem(file, 1, "(YAML)", str(err))]) from None
    if not isinstance(data, dict):
        got = "nothing" if data is None else type(data).__name__
        raise LessonError([Problem(file, _line(root), "(top)",
                                   f"a lesson is a mapping with title and slides; got {got}")])
    # Every problem at once: the file's shape and each action are checked on their own, so a
    # missing title does not hide a misspelt action three slides on.
    problems, actions = [], {}
    try:
        checked = LessonFile.model_validate(data)
    except ValidationError as err:
        checked, problems = None, _problems(err, root, file, ())
    raw_slides = data.get("slides")
    for s, slide in enumerate(raw_slides if isinstance(raw_slides, list) else []):
        do = slide.get("do") if isinstance(slide, dict) else None
        for a, raw in enumerate(do if isinstance(do, list) else []):
            if not isinstance(raw, dict):
                continue   # the file's model named it
            try:
                actions.setdefault(s, []).append(_action(raw, ("slides", s, "do", a), root, file))
            except LessonError as err:
                problems.extend(err.problems)
    if problems:
        raise LessonError(sorted(problems, key=lambda p: p.line))
    slides = [Slide(slide.title, slide.narration, actions.get(s, []), slide.loss, slide.pace)
              for s, slide in enumerate(checked.slides)]
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Lesson(name, file, checked.title, checked.description, slides, digest)


def _action(raw: dict, loc: tuple, root, file: str) -> Action:
    """One `name: arguments` entry of a slide's `do` list, checked by its action's model."""
    if len(raw) != 1:
        raise LessonError([Problem(
            file, _line(root, loc), _field(loc),
            f"an action is one `name: arguments` pair, got {len(raw)}: {sorted(raw)}",
        )])
    (name, value), = raw.items()
    if name not in ACTIONS:
        raise LessonError([Problem(
            file, _line(root, (*loc, name), key=True), _field((*loc, name)),
            f"unknown action {name!r}; the actions are {', '.join(ACTIONS)}",
        )])
    try:
        args = ACTIONS[name].args.model_validate(value)
    except ValidationError as err:
        raise LessonError(_problems(err, root, file, (*loc, name))) from None
    return Action(name, args, _line(root, (*loc, name), key=True), _field((*loc, name)))


def _problems(err: ValidationError, root, file: str, prefix: tuple) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = (*prefix, *(part for part in e["loc"] if part != "root"))
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r} (a typo?)"
        elif e["type"] == "missing":
            message = "required, missing"
        out.append(Problem(file, _line(root, loc, key=e["type"] == "extra_forbidden"),
                           _field(loc), message))
    return out


def _line(root, loc: tuple = (), key: bool = False) -> int:
    """The 1-based line of the node at `loc` (its key's line when `key`); where the path
    stops (a missing field), the line of the deepest node that exists."""
    node, key_node = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == str(part)]
            if not found:
                break
            key_node, node = found[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            key_node, node = None, node.value[part]
        else:
            break
    chosen = key_node if key and key_node is not None else node
    return chosen.start_mark.line + 1 if chosen is not None else 1


def _field(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    parts = [err.context, err.problem]
    return "YAML: " + ", ".join(p for p in parts if p)


# --- showing ---------------------------------------------------------------------------


def narration_html(text: str) -> str:
    """Markdown to HTML (raw HTML in the file is shown as text), maths kept for KaTeX."""
    maths: list[tuple[bool, str]] = []

    def keep(match: re.Match) -> str:
        maths.append((match.group(1) is not None, match.group(1) or match.group(2)))
        return f"MATHSLOT{len(maths) - 1}X"

    html = MARKDOWN.render(MATHS.sub(keep, text))

    def put_back(match: re.Match) -> str:
        display, tex = maths[int(match.group(1))]
        safe = tex.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # a span either way: a block inside a <p> is not HTML; CSS shows a display one as a block
        return f'<span class="math{" display" if display else ""}">{safe}</span>'

    return re.sub(r"MATHSLOT(\d+)X", put_back, html)


def lesson_json(lesson: Lesson) -> dict:
    return {
        "name": lesson.name,
        "file": lesson.file,
        "title": lesson.title,
        "description": lesson.description,
        "slides": [
            {
                "title": s.title,
                "narration": s.narration,
                "html": narration_html(s.narration),
                "actions": [{a.name: a.args.model_dump(mode="json", exclude_none=True)}
                            for a in s.actions],
                "highlight": s.highlight,
                "loss": s.loss,
                "pace": s.pace,
            }
            for s in lesson.slides
        ],
    }


def listing(folders: Sequence[Path]) -> list[dict]:
    """Every lesson in the folders: title and slide count, or the problems that stop it."""
    out = []
    for name in names(folders):
        entry = {"name": name, "file": name, "title": None, "description": "", "slides": 0,
                 "errors": []}
        try:
            lesson = load(folders, name)
            entry.update(file=lesson.file, title=lesson.title, description=lesson.description,
                         slides=len(lesson.slides))
        except LessonError as err:
            entry["file"] = err.problems[0].file
            entry["errors"] = [vars(p) for p in err.problems]
        out.append(entry)
    return out
