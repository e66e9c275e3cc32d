"""The English catalogue is complete (fresh tester, English pages with Chinese left in them): every
msgid in the source has an English msgstr and none is fuzzy — a fuzzy entry is makemessages' guess
from an older string, which gettext ignores, so the page shows Chinese (and the guess is often wrong).

The check runs ``makemessages -l en --no-obsolete`` into a temporary copy of the source and parses the
merged catalogue, so a string marked for translation without an English entry fails here, not in
front of a visitor."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

SRC = Path(__file__).resolve().parents[2] / "src" / "kepuyue"
PO = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def parse_po(text: str) -> list[dict]:
    """The entries of a .po file: ``{"id", "ctx", "plural", "str": [...], "fuzzy", "ref"}`` (pure
    Python; the header entry, with an empty msgid, is left out)."""
    entries = []
    for block in text.split("\n\n"):
        entry = {"id": None, "ctx": None, "plural": None, "str": {}, "fuzzy": False, "ref": ""}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["fuzzy"] |= "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#:"):
                entry["ref"] = entry["ref"] or line[3:].split()[0]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if current[0] == "str":
                    entry["str"][current[1]] += value
                else:
                    entry[current[0]] += value
            else:
                keyword, _, rest = line.partition(" ")
                value = ast.literal_eval(rest)
                if keyword == "msgctxt":
                    current = ("ctx",)
                elif keyword == "msgid":
                    current = ("id",)
                elif keyword == "msgid_plural":
                    current = ("plural",)
                elif keyword.startswith("msgstr"):
                    index = int(keyword[7:-1]) if keyword != "msgstr" else 0
                    current = ("str", index)
                    entry["str"][index] = value
                    continue
                else:
                    continue
                entry[current[0]] = value
        if entry["id"]:
            entries.append(entry)
    return entries


def problems(entries: list[dict]) -> list[str]:
    out = []
    for e in entries:
        if e["fuzzy"]:
            out.append(f"fuzzy: {e['id']!r} ({e['ref']})")
        elif not e["str"] or not all(e["str"].values()):
            out.append(f"untranslated: {e['id']!r} ({e['ref']})")
    return out


def test_the_parser_sees_fuzzy_and_untranslated_entries():
    sample = (
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1\nmsgid "好"\nmsgstr "Good"\n\n'
        '#: a.py:2\n#, fuzzy, python-format\n#| msgid "旧"\nmsgid "新 %(n)s"\nmsgstr "Old"\n\n'
        '#: a.py:3\nmsgid ""\n"多行"\nmsgstr ""\n\n'
        '#: a.py:4\nmsgid "%(n)s 个"\nmsgid_plural "%(n)s 个"\nmsgstr[0] "%(n)s item"\nmsgstr[1] ""\n'
    )
    assert problems(parse_po(sample)) == [
        "fuzzy: '新 %(n)s' (a.py:2)",
        "untranslated: '多行' (a.py:3)",
        "untranslated: '%(n)s 个' (a.py:4)",
    ]


def test_the_committed_catalogue_has_no_fuzzy_or_empty_entry():
    assert problems(parse_po(PO.read_text(encoding="utf-8"))) == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None, reason="needs GNU gettext"
)
def test_every_msgid_in_the_source_has_english(tmp_path, monkeypatch):
    """makemessages over a copy of the source (its .py, .html and .txt files and the English .po):
    a new or changed msgid without English, or a fuzzy guess, fails with its source location."""
    copy = tmp_path / "kepuyue"
    for path in SRC.rglob("*"):
        if path.suffix in {".py", ".html", ".txt"} and "__pycache__" not in path.parts and path.is_file():
            target = copy / path.relative_to(SRC)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    catalogue = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PO, catalogue)
    monkeypatch.chdir(copy)
    # LOCALE_PATHS points at the copy, so makemessages never writes into the real catalogue.
    with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
    merged = parse_po(catalogue.read_text(encoding="utf-8"))
    assert problems(merged) == []
    # Every committed entry survives the next makemessages run: a msgid the source no longer marks
    # (a hand-added entry, or one behind an alias such as ``_lazy`` that xgettext does not know) would
    # be dropped by --no-obsolete and its English lost.
    committed = {(e["ctx"], e["id"]) for e in parse_po(PO.read_text(encoding="utf-8"))}
    assert sorted(committed - {(e["ctx"], e["id"]) for e in merged}, key=str) == []


def test_labels_marked_with_gettext_noop_have_english():
    """The plan's data terms the pages show (special areas, the six “进” venue types, vehicle kinds,
    booking statuses, audiences, topics) stay Chinese in the database and read English on English pages."""
    from kepuyue.activities.models import Audience, SpecialArea, Topic
    from kepuyue.registrations.models import Kind, Status
    from kepuyue.specials.models import VolunteerRole
    from kepuyue.tours.models import TourStatus, VehicleKind, VenueKind

    enums = [Audience, SpecialArea, Topic, Kind, Status, VolunteerRole, TourStatus, VehicleKind, VenueKind]
    assert VenueKind.SCHOOL.label == "进学校" and SpecialArea.RURAL.label == "农村地区"  # data unchanged
    with translation.override("en"):
        untranslated = [m.label for e in enums for m in e if translation.gettext(m.label) == m.label]
    assert untranslated == []
