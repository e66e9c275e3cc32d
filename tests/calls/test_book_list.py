"""The 阅见科普 book list (plan 七(四)2): published entries grouped by theme with ISBNs hyphenated by
python-stdnum, a print stylesheet for A4, and an `.xlsx` export whose cells are formula-safe."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from stdnum import ean

from kepuyue.calls.models import Entry, EntryStatus
from kepuyue.calls.services import format_isbn13, submit_entry


def isbn13(first12: str) -> str:
    return first12 + ean.calc_check_digit(first12)


BOOKS = [
    ("人工智能简史", "ai-future", isbn13("978711542860")),
    ("生命的跃升", "life-science", isbn13("978753575001")),
    ('=HYPERLINK("http://x")', "ai-future", "9780306406157"),
]


@pytest.fixture
def press(plan):
    from kepuyue.orgs.models import Organization

    return Organization.objects.create(name="科学普及出版社", type_id="publisher")


def publish_books(call, press, books):
    for title, theme, isbn in books:
        entry = submit_entry(
            call("reading-book-list"),
            organization=press,
            data={
                "title": title,
                "theme": theme,
                "author": "某作者",
                "publisher": "科学普及出版社",
                "year": "2024",
                "isbn": isbn,
                "audience": "中学生",
                "reason": "好读",
            },
        )
        Entry.objects.filter(pk=entry.pk).update(
            status=EntryStatus.PUBLISHED, published_at=entry.submitted_at
        )


@pytest.mark.parametrize(
    ("isbn", "shown"),
    [
        ("9787115428608", "978-7-115-42860-8"),
        ("9787535750013", "978-7-5357-5001-3"),
        ("9780306406157", "978-0-306-40615-7"),
        ("not-an-isbn", "not-an-isbn"),
    ],
)
def test_isbn_hyphenated_by_the_agency_ranges(isbn, shown):
    assert format_isbn13(isbn) == shown


def test_book_list_grouped_by_theme_with_hyphenated_isbns_and_print_view(client, call, press):
    publish_books(call, press, BOOKS)
    page = client.get(reverse("calls:results", args=["kepuyue-2025", "reading-book-list"])).content.decode()
    assert (
        page.index("AI 与未来")
        < page.index("人工智能简史")
        < page.index("生命科学奥秘")
        < page.index("生命的跃升")
    )
    assert "978-7-115-42860-8" in page and "978-7-5357-5001-3" in page
    assert "@media print" in page and "size: A4" in page and "打印书单（A4）" in page


def test_unpublished_books_are_not_listed(client, call, press):
    publish_books(call, press, BOOKS[:1])
    submit_entry(
        call("reading-book-list"),
        organization=press,
        data={
            "title": "未发布的书",
            "theme": "ai-future",
            "author": "某",
            "publisher": "某",
            "year": "2024",
            "isbn": "9780553380163",
            "reason": "好",
        },
    )
    page = client.get(reverse("calls:results", args=["kepuyue-2025", "reading-book-list"])).content.decode()
    assert "人工智能简史" in page and "未发布的书" not in page


def test_book_list_xlsx_export_is_formula_safe(client, call, press):
    publish_books(call, press, BOOKS)
    response = client.get(reverse("calls:books_xlsx", args=["kepuyue-2025", "reading-book-list"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["书单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("主题", "书名", "作者", "出版社", "出版年", "ISBN")
    assert [r[0] for r in rows[1:]] == ["AI 与未来", "AI 与未来", "生命科学奥秘"]
    titles = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in titles and "人工智能简史" in titles
    assert rows[1][5].count("-") == 4
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_export_only_for_book_lists(client, call, plan):
    assert client.get(reverse("calls:books_xlsx", args=["kepuyue-2025", "essay-30-years"])).status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_book_list_query_count(client, call, press, django_assert_max_num_queries, n):
    publish_books(call, press, BOOKS[:n])
    with django_assert_max_num_queries(4):
        response = client.get(reverse("calls:results", args=["kepuyue-2025", "reading-book-list"]))
    assert response.status_code == 200
