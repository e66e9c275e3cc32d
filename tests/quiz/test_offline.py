"""Offline rounds: a unit's paper results through the Excel template, bad rows reported in Chinese,
counted beside the online ones and marked 线下; the organizers' bank import page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from kepuyue.quiz.models import OfflineBatch, OfflineResult, Question, Tally
from kepuyue.quiz.services import bank, boards, offline, taking

from .conftest import make_taker, right_answers


def workbook(rows, header=("姓名", "得分（百分制）")) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name="成绩.xlsx"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def clerk(njx, django_user_model):
    from kepuyue.orgs.models import Membership

    user = django_user_model.objects.create_user("njx-clerk", "njx@example.org", "Pw-clerk-2025")
    Membership.objects.create(user=user, organization=njx)
    return user


def test_offline_results_count_beside_online_marked_offline(quiz_round, njx, clerk, provinces):
    online = make_taker("在线甲", provinces["330000"], unit=njx)
    attempt = taking.start(quiz_round, online)
    taking.submit(attempt, right_answers(attempt), actor=online)  # 100
    batch, problems = offline.import_offline(
        quiz_round, njx, upload(workbook([("张三", 90), ("李四", "７０"), ("王五", 80)])), actor=clerk
    )
    assert problems == [] and batch.participants == 3
    assert OfflineResult.objects.filter(batch=batch).count() == 3
    board = boards.board(quiz_round)
    [zj] = [t for t in board.provinces if t.key == "330000"]
    assert (zj.participants, zj.offline_participants, zj.score_sum, zj.passed) == (4, 3, 340, 3)
    [unit_row] = board.units
    assert (unit_row.participants, unit_row.offline_participants, unit_row.average, unit_row.pass_rate) == (
        4,
        3,
        85.0,
        75.0,
    )
    assert [r.name for r in board.top] == ["在*甲"]  # the top list is of online takers only


def test_bad_rows_reported_in_chinese_and_nothing_counted(quiz_round, njx, clerk):
    data = workbook([("张三", 90), ("", 80), ("李四", 101), ("王五", "八十"), ("赵六", 85.5), ("x" * 40, 60)])
    batch, problems = offline.import_offline(quiz_round, njx, upload(data), actor=clerk)
    assert batch is None
    assert problems == [
        "第3行 姓名不能为空",
        "第4行 得分须在 0 到 100 之间",
        "第5行 得分须为整数（只能使用数字 0—9）",
        "第6行 得分须为整数（只能使用数字 0—9）",
        "第7行 姓名不能超过 32 个字符（现有 40 个）",
    ]
    assert not OfflineBatch.objects.exists() and not Tally.objects.exists()


def test_missing_header_and_not_a_workbook(quiz_round, njx, clerk):
    _, problems = offline.import_offline(
        quiz_round, njx, upload(workbook([("a", 1)], header=("名字", "分"))), actor=clerk
    )
    assert problems == ["第1行缺少表头：姓名、得分"] or "缺少表头" in problems[0]
    _, problems = offline.import_offline(quiz_round, njx, upload(b"PK\x03\x04 broken"), actor=clerk)
    assert "无法读取 Excel 文件" in problems[0]


def test_same_file_twice_is_refused(quiz_round, njx, clerk):
    data = workbook([("张三", 90)])
    assert offline.import_offline(quiz_round, njx, upload(data), actor=clerk)[0] is not None
    batch, problems = offline.import_offline(quiz_round, njx, upload(data), actor=clerk)
    assert batch is None and "已经上传过" in problems[0]
    assert Tally.objects.get(scope="all").participants == 1


def test_upload_outside_the_window(quiz_round, njx, clerk, clock):
    clock("2025-10-03T00:00+08:00")
    _, problems = offline.import_offline(quiz_round, njx, upload(workbook([("张三", 90)])), actor=clerk)
    assert "不在线下成绩上传时间内" in problems[0]


def test_offline_page_upload_and_listing(client, quiz_round, njx, clerk, django_assert_max_num_queries):
    client.force_login(clerk)
    url = reverse("quiz:offline", args=[quiz_round.slug])
    template = client.get(reverse("quiz:offline_template", args=[quiz_round.slug]))
    assert template.status_code == 200 and template.content.startswith(b"PK")
    response = client.post(url, {"file": upload(workbook([("张三", 60), ("李四", "abc")]))})
    assert response.status_code == 400 and "第3行 得分须为整数" in response.content.decode()
    response = client.post(url, {"file": upload(workbook([("张三", 60), ("李四", 99)]))})
    assert response.status_code == 302
    with django_assert_max_num_queries(8):
        page = client.get(url)
    assert "成绩.xlsx" in page.content.decode()
    board = client.get(reverse("quiz:round", args=[quiz_round.slug])).content.decode()
    assert "线下 2" in board


def test_offline_page_needs_a_units_account(client, quiz_round, provinces):
    client.force_login(make_taker("路人", provinces["330000"]))
    assert client.get(reverse("quiz:offline", args=[quiz_round.slug])).status_code == 403
    client.logout()
    assert client.get(reverse("quiz:offline", args=[quiz_round.slug])).status_code == 302


def test_bank_page_for_cast_admins_only(client, quiz_round, make_staff, clerk):
    from tests.fixtures_accounts import login_staff

    client.force_login(clerk)
    assert client.get(reverse("quiz:bank")).status_code == 403
    admin = make_staff("cast", role="cast_admin")
    login_staff(client, admin)
    assert client.get(reverse("quiz:bank_template")).status_code == 200
    data = bank.bank_template()
    response = client.post(reverse("quiz:bank"), {"file": upload(data, "bank.xlsx")})
    assert response.status_code == 302
    assert Question.objects.filter(key="a07-month").exists()
