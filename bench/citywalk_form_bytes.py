"""Bytes of HTML a phone downloads for the CityWalk entry form (issue 11 point 3: it was 0.97 MB on first load,
more after an error with 12 stop blocks of ~3,700 county options each).

Builds a throw-away SQLite database under a temporary folder (migrate, the real regions, the 2025 plan), signs a
science-education base's account in, and measures with Django's test client:

- ``first load``: ``GET`` of the new-entry form;
- ``after an error``: the form posted with 12 filled stop blocks and one missing field, as re-rendered (400);
- the JSON of one cascading step (``/regions/330100/children.json``), when the checkout has it.

    .venv/bin/python bench/citywalk_form_bytes.py                     # this checkout
    .venv/bin/python bench/citywalk_form_bytes.py --src /tmp/main/src # another checkout (e.g. `git archive main`)

Bytes, not time: the figures do not depend on the machine's load. Prints Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the src/ folder of the checkout to measure")
    args = parser.parse_args()
    src = Path(args.src).resolve()
    var = Path(tempfile.mkdtemp(prefix="kepuyue-bench-form-"))
    sys.path.insert(0, str(src))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kepuyue.settings",
        KEPUYUE_VAR_DIR=str(var),
        DJANGO_SECRET_KEY="bench-" + "x" * 50,
        KEPUYUE_NOW="2025-08-15T10:00+08:00",
    )
    os.environ.pop("DATABASE_URL", None)
    (var / "secret_key").write_text("bench-" + "x" * 50)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: plain static names (the hashed ones differ by a few bytes only).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    from kepuyue.campaigns.services import load_campaign
    from kepuyue.orgs.models import Membership, Organization
    from kepuyue.regions.services import load_regions

    load_regions()
    plan = src.parent / "campaigns" / "kepuyue-2025.yaml"
    load_campaign(plan if plan.exists() else ROOT / "campaigns" / "kepuyue-2025.yaml")
    from django.contrib.auth import get_user_model

    unit = Organization.objects.create(
        name="杭州植物园", type_id="science_education_base", region_id="330106"
    )
    user = get_user_model().objects.create_user("bench-unit", password="Bench-pass-1")  # noqa: S106 - a throw-away database
    Membership.objects.create(user=user, organization=unit)
    client = Client()
    client.force_login(user)
    url = "/calls/org/kepuyue-2025/citywalk-routes/new/"
    first = client.get(url, secure=True)
    post = {"title": "", "city": "330100", "city-province": "330000", "own_stop": "0"}
    for i in range(12):
        post.update(
            {
                f"stop-{i}-name": f"场所{i}",
                f"stop-{i}-address": f"地址{i}",
                f"stop-{i}-province": "330000",
                f"stop-{i}-city": "330100",
                f"stop-{i}-region": "330106",
            }
        )
    error = client.post(url, post, secure=True)
    step = client.get("/regions/330100/children.json", secure=True)
    print(f"checkout: {src}")
    print("| page | status | bytes |")
    print("|---|---|---|")
    print(f"| CityWalk form, first load | {first.status_code} | {len(first.content):,} |")
    print(f"| CityWalk form after an error, 12 stops | {error.status_code} | {len(error.content):,} |")
    if step.status_code == 200:
        print(f"| /regions/330100/children.json | {step.status_code} | {len(step.content):,} |")


if __name__ == "__main__":
    main()
