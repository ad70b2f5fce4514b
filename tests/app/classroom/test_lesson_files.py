"""Lesson files: the schema, a test per class of error naming file, line and field, the five
bundled lessons, and the narration's Markdown with its maths kept for KaTeX."""

import textwrap

import pytest
from support_lessons import one_problem, problems

from app.classroom.lesson_actions import ACTIONS
from app.classroom.lessons import load, narration_html, parse
from app.config import LESSONS
from app.schemas.presets import PRESETS

BUNDLED = LESSONS


@pytest.mark.parametrize("name", PRESETS)
def test_each_lecture_preset_is_a_bundled_lesson_that_opens_with_it(name):
    lesson = load([BUNDLED], name)
    assert lesson.file == f"{name}.yaml"
    assert len(lesson.slides) >= 4
    assert lesson.start() == PRESETS[name].config
    assert all(s.narration.strip() for s in lesson.slides)
    assert sum("$" in s.narration for s in lesson.slides) >= 2 and any(
        "$$" in s.narration for s in lesson.slides)   # maths inline and displayed, for KaTeX


def test_a_good_lesson_parses_into_slides_and_actions():
    lesson = parse(textwrap.dedent("""\
        title: T
        slides:
          - title: One
            narration: "$a^1 = o^0 W^1 + b^1$"
            do:
              - preset: xor
              - play_until: {epoch: 3}
          - title: Two
            do:
              - highlight: {edge: {layer: 2, i: 1, j: 0}}
        """), "t", "t.yaml")
    assert [s.title for s in lesson.slides] == ["One", "Two"]
    assert [a.name for a in lesson.slides[0].actions] == ["preset", "play_until"]
    assert lesson.slides[0].actions[1].line == 7
    assert lesson.slides[1].highlight == {"kind": "W", "layer": 2, "i": 1, "j": 0}
    assert lesson.start() == PRESETS["xor"].config


def test_a_yaml_syntax_error_names_its_line():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            narration: [unclosed
          - title: Two
        """)
    assert field == "(YAML)" and line in (4, 5) and "YAML" in message


def test_a_file_that_is_not_a_mapping_says_what_a_lesson_is():
    assert one_problem("- just\n- a list\n") == (
        1, "(top)", "a lesson is a mapping with title and slides; got list"
    )


def test_an_empty_file_says_it_has_nothing():
    assert one_problem("")[1:] == ("(top)", "a lesson is a mapping with title and slides; "
                                            "got nothing")


def test_a_missing_field_names_the_slide_it_is_missing_from():
    assert one_problem("""\
        title: T
        slides:
          - title: One
          - narration: no title here
        """) == (4, "slides[1].title", "required, missing")


def test_an_unknown_field_is_named_at_its_line_as_a_typo():
    assert one_problem("""\
        title: T
        slides:
          - title: One
            naration: misspelt
        """) == (4, "slides[0].naration", "unknown field 'naration' (a typo?)")


def test_a_value_of_the_wrong_type_names_the_field_inside_the_action():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - play_until:
                  epoch: many
        """)
    assert (line, field) == (6, "slides[0].do[0].play_until.epoch") and "integer" in message


def test_an_unknown_action_is_refused_with_the_list_of_actions():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - step: 1
              - quiz: {answers: [sgd, adam]}
        """)
    assert (line, field) == (6, "slides[0].do[1].quiz")
    assert message.startswith("unknown action 'quiz'") and all(a in message for a in ACTIONS)


def test_an_action_of_two_pairs_is_refused():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - {step: 1, reset: null}
        """)
    assert (line, field) == (5, "slides[0].do[0]") and "one `name: arguments` pair" in message


def test_an_unknown_preset_lists_the_presets():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - preset: moons
        """)
    assert (line, field) == (5, "slides[0].do[0].preset") and "'xor'" in message


def test_a_bad_session_config_names_its_field():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - config:
                  dataset: circle
                  hidden: [4, 0]
        """)
    assert (line, field) == (7, "slides[0].do[0].config.hidden[1]")
    assert "greater than or equal to 1" in message


def test_a_rule_between_arguments_is_named_on_the_action():
    found = problems("""\
        title: T
        slides:
          - title: One
            do:
              - step_to: {phase: backward}
              - play_until: {}
              - highlight: {node: {layer: 1, j: 0}, bias: {layer: 1, j: 0}}
        """)
    assert found == [
        (5, "slides[0].do[0].step_to", "the backward phase needs a layer (1..L)"),
        (6, "slides[0].do[1].play_until", "give either epoch or loss"),
        (7, "slides[0].do[2].highlight", "give exactly one of edge, node or bias"),
    ]


def test_a_lesson_without_slides_is_refused():
    line, field, message = one_problem("title: T\nslides: []\n")
    assert (line, field) == (2, "slides") and "at least 1" in message


def test_narration_keeps_its_maths_for_katex_and_shows_raw_html_as_text():
    html = narration_html(
        "Sum: $\\sum_d o_i^{k-1} \\delta_j^k$ and *bold*\n\n$$E = \\tfrac12 (y - \\hat y)^2$$\n\n"
        "<script>alert(1)</script> costs \\$5"
    )
    assert '<span class="math">\\sum_d o_i^{k-1} \\delta_j^k</span>' in html
    assert '<span class="math display">E = \\tfrac12 (y - \\hat y)^2</span>' in html
    assert "<em>bold</em>" in html and "<script>" not in html and "&lt;script&gt;" in html
