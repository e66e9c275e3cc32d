"""Kepuyue settings: the whole configuration, read from the environment, defaults inline.

With no environment at all the platform runs embedded: SQLite under ``./var/``, media under
``./var/media/``, a local-memory cache and in-process tasks. Each variable below switches one
part to its scale-out form; the README's configuration table lists them all.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kepuyue.common.net import LOOPBACK, parse_networks
from kepuyue.common.ratelimits import DEFAULT_RATE_LIMITS, rate_setting

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("KEPUYUE_HOME", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("KEPUYUE_VAR_DIR", PROJECT_DIR / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable: 1/true/yes/on are true, 0/false/no/off false, unset is ``default``."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected 1/0, true/false, yes/no or on/off")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# pytest (8.2+) announces itself in PYTEST_VERSION; the suite then gets a fixed key and plain HTTP.
TESTING = "PYTEST_VERSION" in os.environ

SECRET_KEY = os.environ.get("SECRET_KEY", "")
_SECRET_KEY_FILE = VAR_DIR / "secret_key"
if not SECRET_KEY and _SECRET_KEY_FILE.is_file():
    # `make run` keeps the embedded install's key here, so later manage.py commands just work.
    SECRET_KEY = _SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if TESTING:
        SECRET_KEY = "kepuyue-test-suite-only"  # noqa: S105 - the test run's own key
    elif not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (or var/secret_key exist: make run creates it)."
        )
    SECRET_KEY = "django-insecure-kepuyue-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "kepuyue.common",
    "kepuyue.regions",
    "kepuyue.orgs",
    "kepuyue.campaigns",
    "kepuyue.activities",
    "kepuyue.search",
    "kepuyue.portal",
    "kepuyue.accounts",
    "kepuyue.roles",
    "kepuyue.audit",
    "kepuyue.review",
    "kepuyue.calls",
    "kepuyue.notifications",
    "kepuyue.registrations",
    "kepuyue.specials",
    "kepuyue.dashboard",
    "kepuyue.quiz",
    "kepuyue.training",
    "kepuyue.tours",
    "kepuyue.api",
    "kepuyue.resources",
    "kepuyue.guide",
    # django-ninja: its Swagger UI assets are served from our static files, never a CDN.
    "ninja",
    # django-health-check: /health/ reports the database, cache, broker and stores (kepuyue.common.health).
    "health_check",
]

MIDDLEWARE = [
    # Outermost: every temporary file a request streamed to disk is removed when it ends, whatever ended it
    # (403, bad CSRF token, too many fields, a refusal, a client that hung up); a full disk is a Chinese 507.
    "kepuyue.common.uploads.UploadHygieneMiddleware",
    # X-Forwarded-* from a client that is not a trusted proxy are dropped before anything reads them.
    "kepuyue.common.net.strip_untrusted_forwarding",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # No control character reaches a view through the path or the query (kepuyue.common.text).
    "kepuyue.common.middleware.clean_request",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kepuyue.common.middleware.chinese_first",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, renaming a session's old backend path (kepuyue.accounts.backends, decision 0036).
    "kepuyue.accounts.backends.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kepuyue.audit.context.request_context",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout, two-factor and initial-password redirects (kepuyue.accounts.middleware).
    "kepuyue.accounts.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A refused request (kepuyue.common.ratelimits) becomes the Chinese 429 page.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # django-axes turns a locked-out login attempt into the lock-out page; it must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kepuyue.urls"
# django-axes first (it refuses locked-out attempts before any password is checked); object
# permissions come from the predicates in kepuyue.roles.rules; the model backend signs in (Django's,
# its per-request account read compiled once: kepuyue.accounts.backends, decision 0036).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "kepuyue.accounts.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
WSGI_APPLICATION = "kepuyue.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kepuyue.portal.context_processors.display",
            ],
            # {% url %} remembered per process (kepuyue.common.reversing, decision 0036).
            "builtins": ["kepuyue.common.templatetags.urls"],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in scale-out).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
        "KEPUYUE_PG_PREPARE", "1"
    ) not in {"0", "false", "off"}:
        # The hot-path statements of kepuyue.common.compiled are prepared on a connection's first
        # run of each (decision 0035); every other query keeps Django's client-side binding, which
        # psycopg never prepares. Behind PgBouncer in transaction mode it needs PgBouncer ≥ 1.21 with
        # max_prepared_statements > 0, or KEPUYUE_PG_PREPARE=0.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 0)
    if TESTING and os.environ.get("KEPUYUE_TEST_DB_SUFFIX"):
        # Two suites on one server (a developer's and a helper's) must not share test_<name>.
        name = DATABASES["default"]["NAME"]
        DATABASES["default"]["TEST"] = {"NAME": f"test_{name}_{os.environ['KEPUYUE_TEST_DB_SUFFIX']}"}
else:
    if not TESTING:  # the test suite never writes into var/ (issue 11 point 7)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kepuyue.sqlite3",
            # Keep each worker's connection: reopening (and re-running the PRAGMAs) cost 2–8 ms a request.
            "CONN_MAX_AGE": 600,
            # WAL lets readers go on while a writer commits; IMMEDIATE avoids lock upgrades.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions and the task broker: Redis when REDIS_URL is set, in-process otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kepuyue",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "kepuyue.common.sessions"  # Django's database sessions, read compiled once (0034)
# The shared page cache and its versions (kepuyue.common.pagecache, ADR 0025): shared by every worker
# of a node (Redis in a cluster; files under var/ on one node — a per-process cache would miss the
# version bumps made by another worker).
if REDIS_URL:
    CACHES["pages"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "kepuyue-pages",
    }
elif TESTING:  # one process; cleared before every test (tests/conftest.py)
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"}
else:
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "pages"),
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }
# Off under pytest unless a test turns it on (tests/portal/test_page_cache.py): other tests change rows
# with the ORM, behind the domain events that invalidate pages.
PAGE_CACHE_ENABLED = os.environ.get("KEPUYUE_PAGE_CACHE", "0" if TESTING else "1") != "0"
# How long a cached page lives at most: not for data (versions invalidate it exactly) but for what the
# campaign clock changes by itself (an activity becoming "ongoing", a deadline passing).
PAGE_CACHE_SECONDS = int(os.environ.get("KEPUYUE_PAGE_CACHE_SECONDS", "60"))
# The deploy's name (a commit, a tag): pages cached by another build are never served by this one
# (kepuyue.common.pagecache.release; the static manifest's hash is part of it anyway).
PAGE_CACHE_RELEASE = os.environ.get("KEPUYUE_RELEASE", "")
# s-maxage sent to a CDN: 0 (the default) makes it revalidate every request with its ETag (exact);
# a few seconds let it answer alone, at most that many seconds late.
PAGE_CACHE_CDN_SECONDS = int(os.environ.get("KEPUYUE_PAGE_CDN_SECONDS", "0"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)
# "The background in background task is always optional": no broker, tasks run in-process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker, kepuyue.common.background runs the tasks queued after a response (the ticket
# e-mail of a booking) on one background thread per process ("thread"), or at once in the request
# ("inline", the default under tests, as eager Celery does). Decision 0018.
KEPUYUE_BACKGROUND = os.environ.get("KEPUYUE_BACKGROUND", "inline" if TESTING else "thread")
if KEPUYUE_BACKGROUND not in {"thread", "inline"}:
    raise ImproperlyConfigured("KEPUYUE_BACKGROUND must be 'thread' or 'inline'")
CELERY_TIMEZONE = "Asia/Shanghai"
# At-least-once delivery (ADR 0026): a task is acknowledged after it ran, so a worker killed mid-task
# (SIGKILL, OOM, a lost machine) leaves its message to be delivered again; every task is idempotent.
# One message reserved per worker process, so a dead worker strands at most one per process. On Redis an
# unacknowledged message comes back after the visibility timeout: keep it above the longest task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
# How often a worker looks for messages whose visibility timeout has passed (a dead worker's). kombu 5.7
# scans only on every 10th sweep of 10 s by default — a message could wait 100 s past its timeout; here
# every sweep scans (throttle 1) and the sweep runs at most a fifth of the timeout apart (ADR 0026).
CELERY_RESTORE_INTERVAL = int(
    os.environ.get("CELERY_RESTORE_INTERVAL", str(max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 5))))
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": CELERY_RESTORE_INTERVAL,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_EXPIRES = 24 * 3600

# --- E-mail (kepuyue.notifications): printed to the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
# STARTTLS on 587 by default; EMAIL_USE_SSL=1 for implicit TLS (port 465).
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "465" if EMAIL_USE_SSL else "587"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "全国科普月平台 <noreply@kepuyue.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# --- Text messages (kepuyue.common.sms): printed to the console unless a provider's backend is named.
KEPUYUE_SMS_BACKEND = os.environ.get(
    "KEPUYUE_SMS_BACKEND",
    "kepuyue.common.sms.LocmemBackend" if TESTING else "kepuyue.common.sms.ConsoleBackend",
)
# The platform's address, for links in e-mails (a request is not at hand when reminders run).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# --- Files: local under var/media/, or any S3-compatible store when AWS_STORAGE_BUCKET_NAME is set.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Files only staff may read (uploaded 信息表 with contact phones): never under MEDIA_ROOT.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_URL = "/static/"
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            # A CDN (or nginx in front of the store) serving the public objects: "cdn.example.cn/media".
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "url_protocol": os.environ.get("AWS_S3_URL_PROTOCOL", "https:"),
            # Signed links (private files) in Signature V4, which S3, MinIO, OSS and COS all accept.
            "signature_version": os.environ.get("AWS_S3_SIGNATURE_VERSION", "s3v4"),
            "file_overwrite": False,
            # Published media (posters, gallery videos, route images) are public: plain, unsigned URLs that
            # never expire and that a CDN caches (issue 17 §5, ADR 0026). Object ACL "public-read" by
            # default; set AWS_DEFAULT_ACL="" when the bucket grants public reads by policy instead.
            "default_acl": os.environ.get("AWS_DEFAULT_ACL", "public-read") or None,
            "querystring_auth": False,
            "object_parameters": {
                "CacheControl": os.environ.get("AWS_S3_CACHE_CONTROL", "public, max-age=86400")
            },
        },
    }
else:
    # Written under a temporary name, fsync'd, then linked into place: never a partial file (ADR 0014).
    _default_storage = {"BACKEND": "kepuyue.common.storage.AtomicFileSystemStorage"}
# --- Uploads (ADR 0006, 0014). Large file parts stream to FILE_UPLOAD_TEMP_DIR (default: the system temp dir) and are
# removed when the request ends (kepuyue.common.uploads). tus resumable uploads (calls): per account at most
# CALLS_TUS_MAX_IN_FLIGHT unfinished or kept uploads and CALLS_TUS_MAX_BYTES_IN_FLIGHT declared bytes; an upload
# not touched for CALLS_UPLOAD_EXPIRY_SECONDS is removed by `manage.py calls_cleanup_uploads` (cron or Celery beat).
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Where tus uploads and kept uploads live (default FILE_UPLOAD_TEMP_DIR, else var/uploads). With several app
# nodes it must be one folder they all mount (a shared volume with POSIX locks), so the PATCH requests of one
# upload may land on any node (ADR 0026).
CALLS_UPLOAD_TEMP_DIR = os.environ.get("CALLS_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "kepuyue.common.uploads.TrackedTemporaryFileUploadHandler",
]
CALLS_TUS_MAX_IN_FLIGHT = int(os.environ.get("CALLS_TUS_MAX_IN_FLIGHT", "3"))
CALLS_TUS_MAX_BYTES_IN_FLIGHT = int(os.environ.get("CALLS_TUS_MAX_BYTES_IN_FLIGHT", str(6 * 1024**3)))
CALLS_UPLOAD_EXPIRY_SECONDS = int(os.environ.get("CALLS_UPLOAD_EXPIRY_SECONDS", str(24 * 3600)))
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        # The manifest (hashed names, compressed copies) exists after collectstatic, which DEBUG
        # runs and the test suite never call.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Sign-in at GB/T 22239-2019 level 3 (kepuyue.accounts): ≥ 8 characters with 3 of 4 classes,
# Argon2 hashes (PBKDF2 kept to read older ones), lock-out after 5 failures, idle timeout, TOTP.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "kepuyue.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "kepuyue.accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:
    # Same algorithm at a test-only cost: hundreds of accounts per run at 0.3 s each add up.
    PASSWORD_HASHERS = ["kepuyue.accounts.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS[1:]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Lock the user name on the address it was tried from, so a stranger elsewhere cannot lock an
# official out; every failure is in the audit log, where one address trying many names shows.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The one client-address function (trusted proxies only): audit, lock-out and rate limits agree.
AXES_CLIENT_IP_CALLABLE = "kepuyue.common.net.client_ip"
AXES_VERBOSE = False
# Idle sessions end after this many minutes without a request (staff: 30, level 3).
KEPUYUE_STAFF_IDLE_MINUTES = int(os.environ.get("KEPUYUE_STAFF_IDLE_MINUTES", "30"))
KEPUYUE_PUBLIC_IDLE_MINUTES = int(os.environ.get("KEPUYUE_PUBLIC_IDLE_MINUTES", "720"))
# Password reset (kepuyue.accounts.reset): a link by e-mail or text message, valid this long, once.
PASSWORD_RESET_TIMEOUT = 60 * int(os.environ.get("KEPUYUE_PASSWORD_RESET_MINUTES", "30"))
OTP_TOTP_ISSUER = "全国科普月"
OTP_TOTP_THROTTLE_FACTOR = 1

# --- Language and time: Simplified Chinese first, English one switch away; Beijing time.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- The campaign clock: an ISO 8601 instant (e.g. 2025-09-10T10:00+08:00) pins "now" for
# rehearsals and demos; empty means the real time. Read only through kepuyue.common.clock.now().
KEPUYUE_NOW = os.environ.get("KEPUYUE_NOW", "")
# An import step with no heartbeat for this many seconds is stale (worker killed, connection lost):
# it is shown as failed and retryable (kepuyue.activities.importing, ADR 0013).
KEPUYUE_IMPORT_STALE_SECONDS = int(os.environ.get("KEPUYUE_IMPORT_STALE_SECONDS", "600"))
KEPUYUE_DATA_DIR = Path(os.environ.get("KEPUYUE_DATA_DIR", PROJECT_DIR / "data"))
KEPUYUE_CAMPAIGNS_DIR = Path(os.environ.get("KEPUYUE_CAMPAIGNS_DIR", PROJECT_DIR / "campaigns"))

# --- Security. Behind TLS (the default when DEBUG is off) every transport setting is strict;
# KEPUYUE_HTTPS=0 is for plain HTTP on loopback, as `make run` serves.
HTTPS = env_bool("KEPUYUE_HTTPS", not (DEBUG or TESTING))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# The language preference (/display/language/, /i18n/setlang/): a year, first-party only, no script,
# over TLS like the others — the same attributes as the 大字模式 cookie (Django's default has no
# SameSite and lasts the browser session).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
try:
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0))
except ValueError as exc:
    raise ImproperlyConfigured("SECURE_HSTS_SECONDS must be a whole number of seconds") from exc
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
KEPUYUE_BEHIND_PROXY = env_bool("KEPUYUE_BEHIND_PROXY", False)
if KEPUYUE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# The proxies whose X-Forwarded-* headers are believed (kepuyue.common.net): addresses or CIDR
# networks. Behind a proxy the default is loopback (nginx on the same host); set the load
# balancers' networks when they are elsewhere. Without a proxy nothing is trusted.
TRUSTED_PROXIES = env_list("KEPUYUE_TRUSTED_PROXIES", ",".join(LOOPBACK) if KEPUYUE_BEHIND_PROXY else "")
parse_networks(TRUSTED_PROXIES)  # a typo fails at start-up, not at the first request

# --- Rate limits (kepuyue.common.ratelimits, django-ratelimit): "count/period" (s, m, h, d; "5/10m"),
# each overridable with KEPUYUE_RATE_LIMIT_<NAME> (e.g. KEPUYUE_RATE_LIMIT_SEARCH=300/m); "off"
# turns one off. Counted in the default cache: per process with the local-memory cache of the
# embedded default (each of make run's workers counts on its own), shared by all nodes with Redis.
RATE_LIMITS = {
    name: rate_setting(f"KEPUYUE_RATE_LIMIT_{name.upper()}", default)
    for name, default in DEFAULT_RATE_LIMITS.items()
}
RATELIMIT_VIEW = "kepuyue.common.views.rate_limited"
# Webhook targets on loopback or private networks (an intranet deployment, tests). Off: refused (SSRF).
WEBHOOK_ALLOW_PRIVATE = env_bool("KEPUYUE_WEBHOOK_ALLOW_PRIVATE", False)
# Webhook deliveries sent at once by one process (a bounded thread pool over keep-alive connections),
# and how many deliveries one batch (one Celery task) carries (decision 0032).
WEBHOOK_CONCURRENCY = max(1, int(os.environ.get("KEPUYUE_WEBHOOK_CONCURRENCY", "8")))
WEBHOOK_BATCH_SIZE = max(1, int(os.environ.get("KEPUYUE_WEBHOOK_BATCH_SIZE", "100")))
# Retention (decision 0032): webhook delivery rows (the delivery log) and change-feed rows are deleted
# after these many days (manage.py purge_webhook_deliveries / purge_changes, Celery beat or cron). A
# change-feed cursor older than the retained window gets a 410 telling the consumer to resync.
API_WEBHOOK_RETENTION_DAYS = max(1, int(os.environ.get("KEPUYUE_API_WEBHOOK_RETENTION_DAYS", "30")))
API_CHANGES_RETENTION_DAYS = max(7, int(os.environ.get("KEPUYUE_API_CHANGES_RETENTION_DAYS", "400")))
# The change feed (/api/v1/changes) serves rows at least this old (a slower transaction's row first).
API_CHANGES_SETTLE_SECONDS = int(os.environ.get("KEPUYUE_API_CHANGES_SETTLE_SECONDS", "5"))
# Stored answers of Idempotency-Key writes are kept this many hours (manage.py purge_idempotency_keys).
API_IDEMPOTENCY_RETENTION_HOURS = max(1, int(os.environ.get("KEPUYUE_API_IDEMPOTENCY_RETENTION_HOURS", "72")))
# Anonymous reads of /api/v1/activities and detail are cached this many seconds, keyed on the change
# feed's latest sequence number (a publication, edit or withdrawal makes a new key); 0 turns it off.
API_READ_CACHE_SECONDS = int(os.environ.get("KEPUYUE_API_READ_CACHE_SECONDS", "30"))
RATELIMIT_ENABLE = env_bool("KEPUYUE_RATE_LIMITS", True)
if not REDIS_URL:
    # django-ratelimit refuses local memory as "not a shared cache": true, it counts per process (README).
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Staff exports (kepuyue.activities.export_jobs): lists longer than KEPUYUE_EXPORT_INLINE_ROWS become a
# background job whose private file is kept KEPUYUE_EXPORT_RETENTION_DAYS days (manage.py purge_exports).
KEPUYUE_EXPORT_INLINE_ROWS = int(os.environ.get("KEPUYUE_EXPORT_INLINE_ROWS", "5000"))
# A background export left running by a dead worker is taken up again by the redelivered task after this.
# /health/ answers probes from these networks only (the load balancer, monitoring); others get a 404.
KEPUYUE_HEALTH_NETWORKS = env_list(
    "KEPUYUE_HEALTH_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
)
parse_networks(KEPUYUE_HEALTH_NETWORKS)
# /health/: how long the store checks (a file written, read and deleted) may take before they count as down.
KEPUYUE_HEALTH_STORE_SECONDS = float(os.environ.get("KEPUYUE_HEALTH_STORE_SECONDS", "10"))
KEPUYUE_EXPORT_RECLAIM_SECONDS = int(os.environ.get("KEPUYUE_EXPORT_RECLAIM_SECONDS", "120"))
KEPUYUE_EXPORT_RETENTION_DAYS = max(1, int(os.environ.get("KEPUYUE_EXPORT_RETENTION_DAYS", "7")))

# --- Registrations (kepuyue.registrations): registrants' personal data is deleted this many days after
# the activity (PIPL minimisation; counts are kept). `manage.py purge_registrations` runs it daily.
# The public dashboard's figures (数据看板, kepuyue.dashboard) are computed from the roll-ups and kept
# this many seconds per campaign (and per map level); 0 computes them on every request.
DASHBOARD_CACHE_SECONDS = int(os.environ.get("KEPUYUE_DASHBOARD_CACHE_SECONDS", "60"))
REGISTRATION_RETENTION_DAYS = int(os.environ.get("KEPUYUE_REGISTRATION_RETENTION_DAYS", "180"))
if REGISTRATION_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("KEPUYUE_REGISTRATION_RETENTION_DAYS must be at least 1")

# Audit entries are kept this many days (never fewer than 180: GB/T 22239-2019 level 3).
AUDIT_RETENTION_DAYS = max(180, int(os.environ.get("AUDIT_RETENTION_DAYS", "365")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "kepuyue.common.logs.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# 光影科学梦 (plan 五(三)4): where the film course resource pack (电影课程资源包) is downloaded from — a
# link to the publicity resources library or any https address; empty: the film tour page says it is
# coming.
KEPUYUE_FILM_COURSE_PACK_URL = os.environ.get("KEPUYUE_FILM_COURSE_PACK_URL", "")
