"""``reverse()`` remembered per process and the builtin ``{% url %}`` that uses it (decision 0036):
the same answers as Django's, whatever the arguments, prefix or language; errors as Django's."""

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.urls import NoReverseMatch, clear_url_caches, get_resolver, set_script_prefix
from django.urls import reverse as django_reverse
from django.utils import translation

from kepuyue.common import reversing
from kepuyue.common.reversing import reverse


@pytest.fixture(autouse=True)
def fresh():
    clear_url_caches()
    set_script_prefix("/")
    yield
    clear_url_caches()
    set_script_prefix("/")


def test_same_answers_as_django():
    for name, args, kwargs in [
        ("healthz", (), {}),
        ("registrations:sessions", (12,), {}),
        ("registrations:sessions", ("12",), {}),
        ("registrations:ticket", (), {"code": "AB12CD34"}),
        ("accounts:login", None, None),
    ]:
        first = reverse(name, args=args, kwargs=kwargs)
        assert first == django_reverse(name, args=args, kwargs=kwargs)
        assert reverse(name, args=args, kwargs=kwargs) == first  # from the store
    assert get_resolver()._kepuyue_reversed


def test_bool_is_not_one_and_errors_are_django_s():
    assert reverse("registrations:sessions", args=[1]) == django_reverse("registrations:sessions", args=[1])
    with pytest.raises(NoReverseMatch):
        django_reverse("registrations:sessions", args=[True])
    with pytest.raises(NoReverseMatch):
        reverse("registrations:sessions", args=[True])
    with pytest.raises(NoReverseMatch):
        reverse("registrations:no-such-page")
    with pytest.raises(NoReverseMatch):
        reverse("registrations:no-such-page")  # not remembered as an answer


def test_script_prefix_and_language_are_part_of_the_key():
    plain = reverse("registrations:sessions", args=[5])
    set_script_prefix("/kepu/")
    assert reverse("registrations:sessions", args=[5]) == "/kepu" + plain
    set_script_prefix("/")
    with translation.override("en"):
        assert reverse("registrations:sessions", args=[5]) == django_reverse(
            "registrations:sessions", args=[5]
        )
    assert reverse("registrations:sessions", args=[5]) == plain


def test_a_new_url_configuration_starts_empty():
    reverse("healthz")
    clear_url_caches()
    assert "_kepuyue_reversed" not in get_resolver().__dict__


def test_store_is_bounded(monkeypatch):
    monkeypatch.setattr(reversing, "LIMIT", 3)
    for code in ("A1", "B2", "C3", "D4", "E5"):
        assert reverse("registrations:ticket", kwargs={"code": code}) == django_reverse(
            "registrations:ticket", kwargs={"code": code}
        )
    assert len(get_resolver()._kepuyue_reversed) <= 3


def test_url_tag_renders_as_django_s(settings):
    from django.template import engines

    engine = engines["django"].engine
    source = (
        "{% url 'registrations:sessions' pk %}|{% url 'healthz' as h %}{{ h }}|{% url 'nope' as n %}[{{ n }}]"
    )
    ours = engine.from_string(source).render(Context({"pk": 7}))
    django = Template(source, engine=Engine()).render(Context({"pk": 7}))  # Django's own tag
    assert ours == django == f"{django_reverse('registrations:sessions', args=[7])}|/healthz|[]"
    with pytest.raises(NoReverseMatch):
        engine.from_string("{% url 'nope' %}").render(Context({}))
    with pytest.raises(TemplateSyntaxError):
        engine.from_string("{% url %}")


def test_template_literals_are_remembered():
    from django.template import engines

    engines["django"].engine.from_string("{% url 'registrations:sessions' '12' %}").render(Context({}))
    assert any(key[0] == "registrations:sessions" for key in get_resolver()._kepuyue_reversed)
