"""The import applies the rules of the form, the API and 提交 (``activities.services.validation``),
never coerces a value silently and says what is wrong with each row at validation (step 1), so
nothing it accepts is refused later: phones, texts, counts, formula cells, a CSV named .xlsx, the
attempt counter."""

from __future__ import annotations

import re

import pytest
from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kepuyue.activities import importing, services
from kepuyue.activities.forms import ActivityForm, ImportUploadForm
from kepuyue.activities.models import Activity, ImportJob
from tests.activities.helpers import reasons, run_import, write_csv, write_xlsx

HEADER = [
    "活动名称",
    "品牌活动",
    "开始日期",
    "结束日期",
    "省份",
    "联系电话",
    "预计参与人数",
    "活动地点",
    "联系人",
]
GOOD = ["科学之夜", "科学之夜", "2025-09-20", "2025-09-20", "浙江省"]


def row(title: str, *, phone="", count="", venue="", contact=""):
    return [title, *GOOD[1:], phone, count, venue, contact]


def service_verdict(name: str, value) -> str | None:
    """The first message the form/API/提交 path gives for ``value`` of ``name`` (``None``: accepted)."""
    if name in services.COUNT_FIELDS:
        try:
            ActivityForm.base_fields[name].clean(value)
        except django_forms.ValidationError as exc:
            return exc.messages[0]
        return None
    _cleaned, errors = services.clean_texts({name: value})
    return errors[0][1] if errors else None


def import_verdicts(tmp_path, unit, column: str, values: list) -> list[str | None]:
    """The import's first error for each value, one row each, at validation (step 1)."""
    index = HEADER.index(column)
    rows = [HEADER]
    for n, value in enumerate(values):
        cells = row(f"活动{n}")
        cells[index] = value
        rows.append(cells)
    job = run_import(write_xlsx(tmp_path / "v.xlsx", rows), unit, commit=False)
    assert job.state == ImportJob.State.VALIDATED, job.error
    verdicts = []
    for n in range(len(values)):
        errors = [i["reason"] for i in job.report if i["row"] == n + 2 and i["level"] == importing.ERROR]
        verdicts.append(errors[0] if errors else None)
    return verdicts


HOSTILE = {
    "联系电话": (
        "contact_phone",
        [
            "12345",
            "010-1",
            "abc",
            "1381234567",
            "13812345678",
            "010-68571988",
            "０１０－６８５７１９８８",
            "1" * 40,
        ],
    ),
    "联系人": ("contact_name", ["张三", "张" * 65, "李四\u202e"]),
    "活动地点": ("venue", ["科技馆", "馆" * 256]),
}


@pytest.mark.parametrize("column", list(HOSTILE))
def test_texts_get_the_same_verdict_as_the_form_and_submit(plan, unit, tmp_path, column):
    """Issue: phones 12345 and 010-1 passed the import and were refused only at 提交."""
    name, values = HOSTILE[column]
    expected = [service_verdict(name, v) for v in values]
    assert import_verdicts(tmp_path, unit, column, values) == expected
    assert any(expected) and not all(expected)  # the cases hold both verdicts


def test_bad_phones_are_refused_at_validation_and_good_ones_stored_as_the_form_does(plan, unit, tmp_path):
    rows = [
        HEADER,
        row("甲", phone="12345"),
        row("乙", phone="010-1"),
        row("丙", phone="０１０ ６８５７ １９８８"),
    ]
    job = run_import(write_xlsx(tmp_path / "p.xlsx", rows), unit)
    assert "联系电话“12345”不是有效的电话号码" in reasons(job, 2)[0]
    assert "联系电话“010-1”不是有效的电话号码" in reasons(job, 3)[0]
    assert list(Activity.objects.values_list("title", "contact_phone")) == [("丙", "010-68571988")]
    # Nothing the import accepted is refused later: the stored draft submits.
    activity = Activity.objects.get()
    assert services.validate_activity(services.activity_data(activity)) == []


COUNTS = [-5, "-5", 99999999999, 99999999999.0, "99999999999", "abc", 12.5, "12.5", 2_000_000_001, "①"]


def test_counts_get_the_same_verdict_as_the_form(plan, unit, tmp_path):
    imported = import_verdicts(tmp_path, unit, "预计参与人数", COUNTS)
    for value, verdict in zip(COUNTS, imported, strict=True):
        assert verdict is not None, value
        form = service_verdict("expected_participants", value)
        if form in ("不能小于 0", "不能超过 2000000000"):
            assert verdict == form, (value, verdict)


@pytest.mark.parametrize(
    ("cell", "stored", "message"),
    [
        (-5, None, "不能小于 0"),
        ("－5", None, "不能小于 0"),
        (99999999999, None, "不能超过 2000000000"),
        (12.0, 12, None),
        ("约500人", 500, None),
        ("1,000", 1000, None),
        ("１２０人", 120, None),
        ("abc", None, "不是数字"),
        ("5-6", None, "不是数字"),
        ("12.5", None, "须为整数"),
    ],
)
def test_counts_are_read_strictly(plan, unit, tmp_path, cell, stored, message):
    """Issue: -5 was stored as 5; 99999999999 was reported as “99999999999.0：不是数字”."""
    job = run_import(write_xlsx(tmp_path / "c.xlsx", [HEADER, row("科学之夜", count=cell)]), unit)
    if message is None:
        assert Activity.objects.get().expected_participants == stored
        assert reasons(job, 2) == []
    else:
        assert not Activity.objects.exists()
        issue = next(i for i in job.report if i["row"] == 2 and i["level"] == importing.ERROR)
        assert issue["reason"] == message and issue["column"] == "预计参与人数"
        assert ".0" not in issue["value"]


def test_form_gives_the_same_count_messages(plan):
    field = ActivityForm.base_fields["expected_participants"]
    for value, message in ((-5, "不能小于 0"), (99999999999, "不能超过 2000000000")):
        with pytest.raises(django_forms.ValidationError) as caught:
            field.clean(value)
        assert caught.value.messages == [message]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    phones=st.lists(
        st.one_of(
            st.text(alphabet="0123456789-+ ()转", min_size=1, max_size=20),
            st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
            st.from_regex(r"0[1-9][0-9]{1,2}-[1-9][0-9]{6,7}", fullmatch=True),
        ).filter(lambda s: s.strip() and not s.strip().startswith(("=", "+", "-", "@"))),
        min_size=1,
        max_size=12,
    )
)
def test_any_phone_gets_the_same_verdict_in_import_and_form(plan, unit, tmp_path_factory, phones):
    tmp_path = tmp_path_factory.mktemp("phones")

    def shape(message):  # the verdict and its wording; the echoed value may differ in spaces
        return None if message is None else re.sub(r"“[^”]*”", "“…”", message)

    expected = [shape(service_verdict("contact_phone", p)) for p in phones]
    assert [shape(m) for m in import_verdicts(tmp_path, unit, "联系电话", phones)] == expected


def test_formula_cells_are_reported_in_the_activity_import(plan, unit, tmp_path):
    rows = [HEADER, row('=HYPERLINK("https://example.org","科学之夜")'), row("夜场2", count="=1+1")]
    job = run_import(write_xlsx(tmp_path / "f.xlsx", rows), unit)
    assert reasons(job, 2) == ["第2行“活动名称”是公式，平台不计算公式，请复制后“粘贴为数值”再导入"]
    assert reasons(job, 3) == ["第3行“预计参与人数”是公式，平台不计算公式，请复制后“粘贴为数值”再导入"]
    assert not Activity.objects.exists()


def test_a_csv_named_xlsx_is_read_as_csv(plan, unit, tmp_path):
    """README: the content decides the format."""
    path = write_csv(tmp_path / "renamed.xlsx", [HEADER, row("科学之夜")])
    job = run_import(path, unit)
    assert job.state == ImportJob.State.DONE and job.created_count == 1
    form = ImportUploadForm(files={"file": SimpleUploadedFile("renamed.xlsx", path.read_bytes())})
    assert form.is_valid(), form.errors


def test_one_commit_is_one_attempt(plan, unit, tmp_path):
    """Issue: the page showed “第 2 次尝试” after one click (validation and commit were counted together)."""
    job = run_import(write_xlsx(tmp_path / "a.xlsx", [HEADER, row("科学之夜")]), unit, commit=False)
    assert job.attempts == 1
    job = importing.commit_import(job)
    assert job.state == ImportJob.State.DONE and job.attempts == 1
