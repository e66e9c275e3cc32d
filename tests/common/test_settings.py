"""The two configurations: embedded default with no environment, scale-out from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "session": settings.SESSION_ENGINE,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "media": str(settings.MEDIA_ROOT),
    "tz": settings.TIME_ZONE, "lang": settings.LANGUAGE_CODE, "use_tz": settings.USE_TZ,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
}))
"""


def run_settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    base.update({"DJANGO_SETTINGS_MODULE": "kepuyue.settings", "KEPUYUE_VAR_DIR": str(tmp_path / "var")})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_settings_embedded_default(tmp_path):
    result = run_settings({"SECRET_KEY": "k" * 50}, tmp_path)
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["db_name"] == str(tmp_path / "var" / "kepuyue.sqlite3")
    assert conf["media"] == str(tmp_path / "var" / "media")
    assert conf["cache"].endswith("LocMemCache")
    assert conf["eager"] is True
    assert conf["storage"].endswith("FileSystemStorage")
    assert (conf["tz"], conf["lang"], conf["use_tz"]) == ("Asia/Shanghai", "zh-hans", True)
    assert conf["ssl_redirect"] is True  # DEBUG off means production transport settings


def test_settings_scale_out_from_environment(tmp_path):
    result = run_settings(
        {
            "SECRET_KEY": "k" * 50,
            "DATABASE_URL": "postgres://u@db.example:5432/kepuyue",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "AWS_STORAGE_BUCKET_NAME": "kepuyue-media",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.postgresql"
    assert conf["cache"] == "django_redis.cache.RedisCache"
    assert conf["session"] == "django.contrib.sessions.backends.cache"
    assert conf["eager"] is False
    assert conf["storage"] == "storages.backends.s3.S3Storage"


def test_settings_require_secret_key_when_debug_off(tmp_path):
    result = run_settings({}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        {
            "SECRET_KEY": "a-long-random-production-secret-" + "x9Q!" * 10,
            "KEPUYUE_VAR_DIR": str(tmp_path / "var"),
            "ALLOWED_HOSTS": "www.kepuyue.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_read_the_key_make_run_keeps(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("kept-by-make-run-" + "z" * 40 + "\n")
    result = run_settings({}, tmp_path)
    assert result.returncode == 0, result.stderr
