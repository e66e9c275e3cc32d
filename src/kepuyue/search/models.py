"""The SQLite full-text index of activities, seen from the ORM.

``search_activity_fts`` is an FTS5 external-content table over ``activities_activity.search_text``
created by migration 0001 on SQLite only (PostgreSQL uses a GIN expression index instead, see
``docs/decisions/0002-search-backends.md``). The unmanaged model below lets querysets of
:class:`~kepuyue.activities.models.Activity` join it (``search_entry__…``) so that the match and
its ``bm25`` rank come from one scan, without raw SQL in the queries.
"""

from django.db import models

FTS_TABLE = "search_activity_fts"


class FullTextField(models.TextField):
    """A column of an FTS5 table; its ``match`` lookup is ``<column> MATCH <fts5 query>``.

    The right-hand side must be an FTS5 query built by
    :func:`kepuyue.search.services.fts5_query` — never user text.
    """


@FullTextField.register_lookup
class Match(models.Lookup):
    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class ActivitySearchEntry(models.Model):
    """One row of the FTS5 index per activity (SQLite only; never written from Python — the
    triggers of migration 0001 keep it in step with ``Activity.search_text``).

    ``rank`` is FTS5's hidden ``rank`` column: ``bm25()`` of the current MATCH, lower is better.
    """

    activity = models.OneToOneField(
        "activities.Activity",
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="search_entry",
    )
    search_text = FullTextField()
    rank = models.FloatField()

    class Meta:
        managed = False
        required_db_vendor = "sqlite"
        db_table = FTS_TABLE
        verbose_name = "活动全文索引"
        verbose_name_plural = "活动全文索引"

    def __str__(self) -> str:
        return self.search_text
