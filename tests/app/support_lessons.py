"""Lesson files in tests: the problems a lesson's YAML text has."""

import textwrap

import pytest

from app.classroom.lessons import LessonError, parse


def problems(text: str) -> list[tuple[int, str, str]]:
    """(line, field, message) of each problem of a lesson's YAML text, from file t.yaml."""
    with pytest.raises(LessonError) as caught:
        parse(textwrap.dedent(text), "t", "t.yaml")
    assert all(p.file == "t.yaml" for p in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def one_problem(text: str) -> tuple[int, str, str]:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]
