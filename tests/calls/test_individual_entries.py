"""个人投稿 (issue 14, plan 六(三)4): a call open to individuals takes essays from people with a public
account; an entry belongs to a unit or to a person (a database constraint); judging and 择优发布 are the
same; the public results page masks the person's name."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.calls import services
from kepuyue.calls.models import Entry, EntryStatus
from kepuyue.roles.models import RoleGrant

BODY = "农技协带我走上了致富路。" * 80  # 960 characters: inside 800–8000


def identity(**extra):
    data = {
        "title": "我与农技协的三十年",
        "author": "张三丰",
        "author_unit": "某县农技协",
        "entrant_role": "member",
        "entrant_province": "330000",
        "body": BODY,
    }
    data.update(extra)
    return data


@pytest.fixture
def essay(call):
    return call("essay-30-years")


@pytest.fixture
def farmer(plan, django_user_model):
    """A public account (no unit)."""
    return django_user_model.objects.create_user("farmer@example.com", password="pw-farmer-1")


def test_the_plan_opens_the_essay_call_to_individuals_and_no_other(plan, essay, call):
    assert services.individual_fields(essay) == ("unit", "role", "province")
    assert services.individual_fields(call("reading-work-plans")) is None
    assert "本征集只接受单位提交" in services.individual_problem(call("reading-work-plans"), None)


def test_a_person_submits_an_essay_that_belongs_to_them(essay, farmer):
    entry = services.submit_individual_entry(essay, user=farmer, data=identity())
    entry.refresh_from_db()
    assert (entry.organization_id, entry.person_id, entry.status) == (None, farmer.pk, EntryStatus.SUBMITTED)
    assert (entry.author, entry.author_unit, entry.entrant_role, entry.entrant_province_id) == (
        "张三丰",
        "某县农技协",
        "member",
        "330000",
    )
    assert entry.char_count == len(BODY)


def test_identity_fields_are_required_with_clear_messages(essay, farmer):
    with pytest.raises(ValidationError) as error:
        services.submit_individual_entry(
            essay,
            user=farmer,
            data=identity(author="", author_unit="", entrant_role="boss", entrant_province="330100"),
        )
    messages = error.value.message_dict
    assert messages["author"] == ["请填写作者"]
    assert messages["author_unit"] == ["请填写所在单位"]
    assert messages["entrant_role"] == ["请选择身份：带头人、会员、工作人员、农村科普工作者"]
    assert messages["entrant_province"] == ["请选择所在省份"]  # a prefecture is not a province
    assert not Entry.objects.exists()


def test_one_live_essay_per_person_and_only_while_the_call_is_open(essay, farmer, clock):
    entry = services.submit_individual_entry(essay, user=farmer, data=identity())
    with pytest.raises(ValidationError, match="每人每项征集限投一篇"):
        services.submit_individual_entry(essay, user=farmer, data=identity())
    services.transition(entry, EntryStatus.WITHDRAWN, actor=farmer)
    services.submit_individual_entry(essay, user=farmer, data=identity(title="重写"))
    clock("2025-08-01T10:00+08:00")
    with pytest.raises(ValidationError, match="征集尚未开始"):
        services.submit_individual_entry(essay, user=farmer, data=identity())


def test_an_entry_is_a_units_or_a_persons_never_both_nor_neither(essay, farmer):
    from kepuyue.orgs.models import Organization

    rural = Organization.objects.create(name="某县农技协", type_id="rural_association")
    for organization, person in ((None, None), (rural, farmer)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Entry.objects.create(call=essay, organization=organization, person=person, title="x")


def test_judging_and_publishing_are_unchanged_and_the_results_mask_the_name(
    client, essay, farmer, plan, django_user_model
):
    entry = services.submit_individual_entry(essay, user=farmer, data=identity())
    judge = django_user_model.objects.create_user("judge-essay", password="pw-judge-1")
    RoleGrant.objects.create(user=judge, role="judge", call=essay)
    assert entry in services.judgeable_entries(judge, essay)
    services.score_entry(entry, judge, {"theme": 90, "story": 80, "writing": 70})
    manager = django_user_model.objects.create_user("rural-manager", password="pw-manager-1")
    RoleGrant.objects.create(
        user=manager,
        role="joint_action_manager",
        joint_action=plan.joint_actions.get(slug="rural-associations"),
    )
    services.transition(entry, EntryStatus.SHORTLISTED, actor=manager)
    services.transition(entry, EntryStatus.PUBLISHED, actor=manager)
    page = client.get(reverse("calls:results", args=["kepuyue-2025", "essay-30-years"])).content.decode()
    assert "我与农技协的三十年" in page
    assert "张**" in page and "张三丰" not in page
    assert "某县农技协 · 浙江省" in page
    assert reverse("calls:individual_new", args=["kepuyue-2025", "essay-30-years"]) in page
    # The open API lists it with the same masked byline.
    api = client.get("/api/v1/campaigns/kepuyue-2025/calls/essay-30-years/entries").json()
    assert [item["organization"] for item in api["items"]] == ["张** · 某县农技协 · 浙江省"]


def test_the_personal_form_submits_and_lists_the_persons_entries(client, essay, farmer):
    url = reverse("calls:individual_new", args=["kepuyue-2025", "essay-30-years"])
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(farmer)
    page = client.get(url).content.decode()
    assert "农村科普工作者" in page and "浙江省" in page
    response = client.post(url, identity(organization="1", status="published"))
    assert response.status_code == 302 and response["Location"] == reverse("calls:personal")
    entry = Entry.objects.get()
    assert (entry.person, entry.organization, entry.status) == (farmer, None, EntryStatus.SUBMITTED)
    mine = client.get(reverse("calls:personal")).content.decode()
    assert entry.code in mine
    again = client.get(url).content.decode()
    assert "您已投稿" in again


def test_a_units_only_call_has_no_personal_form(client, farmer, plan):
    client.force_login(farmer)
    url = reverse("calls:individual_new", args=["kepuyue-2025", "reading-work-plans"])
    assert client.get(url).status_code == 404


def test_another_persons_entry_is_a_404(client, essay, farmer, django_user_model):
    entry = services.submit_individual_entry(essay, user=farmer, data=identity())
    other = django_user_model.objects.create_user("other@example.com", password="pw-other-1")
    client.force_login(other)
    assert client.get(reverse("calls:entry", args=[entry.code])).status_code == 404
    response = client.post(reverse("calls:entry_action", args=[entry.code]), {"action": "withdraw"})
    assert response.status_code == 404
    assert Entry.objects.get().status == EntryStatus.SUBMITTED
    assert entry.code not in client.get(reverse("calls:personal")).content.decode()


@pytest.mark.parametrize("count", [1, 3])
def test_personal_entries_query_count(
    client, call, plan, django_user_model, django_assert_num_queries, count
):
    from kepuyue.campaigns.models import Call

    person = django_user_model.objects.create_user("many@example.com", password="pw-many-1")
    essay = call("essay-30-years")
    for n in range(count):
        # One live essay per call: the others go to copies of the call.
        target = essay if n == 0 else Call.objects.get(pk=_copy_call(essay, n).pk)
        services.submit_individual_entry(target, user=person, data=identity(title=f"第{n}篇"))
    client.force_login(person)
    with django_assert_num_queries(3):  # session, user, the entries with their calls
        response = client.get(reverse("calls:personal"))
    assert response.content.decode().count("<tr>") == count + 1


def _copy_call(call, n):
    from kepuyue.campaigns.models import Call

    copy = Call.objects.get(pk=call.pk)
    copy.pk = None
    copy.slug = f"{call.slug}-{n}"
    copy.save()
    return copy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(
            ["title", "author", "author_unit", "entrant_role", "entrant_province", "body", "theme"]
        ),
        st.text(max_size=300),
    )
)
def test_the_personal_form_never_fails_on_any_input(client, essay, farmer, data):
    client.force_login(farmer)
    url = reverse("calls:individual_new", args=["kepuyue-2025", "essay-30-years"])
    response = client.post(url, {k: v.replace("\x00", "") for k, v in data.items()})
    assert response.status_code in (200, 302, 400)
    Entry.objects.filter(person=farmer).delete()


def test_the_results_page_offers_individual_submission_only_while_the_call_is_open(client, essay, clock):
    """A closed call must not invite entries the form would only refuse (征集已截止)."""
    url = reverse("calls:results", args=["kepuyue-2025", "essay-30-years"])
    submit = reverse("calls:individual_new", args=["kepuyue-2025", "essay-30-years"])
    clock("2030-01-01T10:00+08:00")
    assert submit not in client.get(url).content.decode()
    clock("2000-01-01T10:00+08:00")
    assert submit not in client.get(url).content.decode()
