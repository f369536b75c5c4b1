"""Campaign personalisation: sandboxed, a missing field never breaks a send."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.marketing.personalise import PersonaliseError, check, render


def test_fields_are_filled_and_missing_ones_are_empty_or_default():
    assert render("سلام {{ first_name }}", {"first_name": "مریم"}) == "سلام مریم"
    assert render("سلام {{ first_name }}!", {}) == "سلام !"
    assert render('سلام {{ first_name|default("دوست عزیز") }}', {"first_name": ""}) == \
        "سلام دوست عزیز"
    assert render("{{ company.name.upper() }}x", {}) == "x"  # chained missing fields


def test_the_sandbox_refuses_reaching_into_python():
    text = render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    assert "subclasses" not in text.replace("__subclasses__", "") and "<class" not in text


def test_html_values_are_escaped_in_the_html_part_only():
    context = {"first_name": "<b>x</b>"}
    assert render("{{ first_name }}", context, html=True) == "&lt;b&gt;x&lt;/b&gt;"
    assert render("{{ first_name }}", context) == "<b>x</b>"


def test_a_broken_template_is_refused_when_saved():
    with pytest.raises(PersonaliseError, match="line 2"):
        check("سلام\n{{ first_name ")
    check("سلام {{ first_name }}")


@given(st.dictionaries(st.sampled_from(["first_name", "city", "x"]),
                       st.one_of(st.none(), st.text(max_size=20), st.integers())))
def test_render_never_raises(context):
    assert isinstance(render("{{ first_name }} {{ city|default('-') }} {{ x.y }}", context), str)


def test_a_runtime_error_drops_the_fields_not_the_message():
    assert render("سلام {{ 1 / 0 }}، خوش آمدید", {}) == "سلام ، خوش آمدید"
