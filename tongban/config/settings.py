"""Settings of one Tongban node. Every value comes from the environment; each is described here.

Nothing secret is in this file: development secrets are generated on first run into ``var/``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from tongban.config.env import env_bool, env_float, env_int, env_list, env_str, local_secrets

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent

# TONGBAN_VAR_DIR: where a node keeps its state on disk (SQLite file, uploads, generated secrets).
VAR_DIR = Path(env_str("TONGBAN_VAR_DIR", str(REPO_DIR / "var"))).resolve()

_secrets = local_secrets(VAR_DIR)
# TONGBAN_SECRET_KEY: Django's signing key (sessions, CSRF). Generated into var/secrets.json if unset.
SECRET_KEY = _secrets["SECRET_KEY"]
# TONGBAN_PII_KEY: 32-byte hex key for AES-GCM encryption of ID and phone numbers at rest.
PII_KEY = _secrets["PII_KEY"]
# TONGBAN_PII_HASH_KEY: 32-byte hex key for the keyed hash (HMAC-SHA256) used to look up encrypted values.
PII_HASH_KEY = _secrets["PII_HASH_KEY"]

# TONGBAN_NODE_KEY_PASSPHRASE: encrypts this node's private signing key on disk (PKCS#8).
NODE_KEY_PASSPHRASE = _secrets["NODE_KEY_PASSPHRASE"]

# TONGBAN_DEBUG: Django debug pages. Off unless asked for; never on in production.
DEBUG = env_bool("TONGBAN_DEBUG", False)
# TONGBAN_ALLOWED_HOSTS: comma-separated host names this node answers to.
ALLOWED_HOSTS = env_list("TONGBAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# TONGBAN_CSRF_TRUSTED_ORIGINS: comma-separated origins allowed to POST forms (behind a proxy).
CSRF_TRUSTED_ORIGINS = env_list("TONGBAN_CSRF_TRUSTED_ORIGINS", [])

# TONGBAN_NODE_CODE: this node's GB/T 2260 division code (its identity in the federation).
NODE_CODE = env_str("TONGBAN_NODE_CODE", "340100")
# TONGBAN_NODE_NAME: this node's display name.
NODE_NAME = env_str("TONGBAN_NODE_NAME", "合肥市")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tongban.core",
    "tongban.regions",
    "tongban.accounts",
    "tongban.catalogue",
    "tongban.cases",
    "tongban.notifications",
    "tongban.exchange",
    "tongban.certificates",
    "tongban.bundles",
    "tongban.plans",
    "tongban.proposals",
    "tongban.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.web.middleware.PreferencesMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tongban.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "tongban.config.urls"
WSGI_APPLICATION = "tongban.config.wsgi.application"

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
                "tongban.web.context_processors.node",
            ],
        },
    },
]

# DATABASE_URL: where the node's database is. Unset: SQLite in var/tongban.sqlite3 (the embedded
# default). Production: postgres://user:password@host:5432/name.
# TONGBAN_DB_CONN_MAX_AGE: seconds a database connection is kept open between requests.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"),
        conn_max_age=env_int("TONGBAN_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer commits; IMMEDIATE avoids upgrade deadlocks between writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Every query a node runs reads a page or a count over an index; a parallel worker only adds the
    # time to start it (12-14 ms measured on catalogue searches, bench/findings.md).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c max_parallel_workers_per_gather=0"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["tongban.accounts.backends.LockoutAwareBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# TONGBAN_PASSWORD_HASHER: "pbkdf2" (Django's default) or "fast" for the test suite only.
if env_str("TONGBAN_PASSWORD_HASHER", "pbkdf2") == "fast":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# TONGBAN_LOGIN_MAX_FAILURES: failed logins in a row before an account is locked.
LOGIN_MAX_FAILURES = env_int("TONGBAN_LOGIN_MAX_FAILURES", 5)
# TONGBAN_LOGIN_LOCKOUT_MINUTES: how long a locked account stays locked.
LOGIN_LOCKOUT_MINUTES = env_int("TONGBAN_LOGIN_LOCKOUT_MINUTES", 15)
# TONGBAN_REALNAME_VERIFIER: dotted path of the real-name verification provider.
REALNAME_VERIFIER = env_str("TONGBAN_REALNAME_VERIFIER", "tongban.accounts.realname.CheckDigitVerifier")

# TONGBAN_SESSION_HOURS: how long a portal session lives without activity.
SESSION_COOKIE_AGE = env_int("TONGBAN_SESSION_HOURS", 8) * 3600
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# TONGBAN_SECURE_COOKIES: send cookies over HTTPS only (set it when the node is behind TLS).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("TONGBAN_SECURE_COOKIES", False)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# TONGBAN_STATIC_ROOT: where `collectstatic` puts files for a front proxy; unset, WhiteNoise serves
# them straight from the installed apps.
STATIC_ROOT = env_str("TONGBAN_STATIC_ROOT", "") or None
# Served by WhiteNoise straight from the apps' static folders: nothing to collect in the demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# TONGBAN_UPLOAD_MAX_MB: largest accepted upload for one material, in MiB.
UPLOAD_MAX_BYTES = env_int("TONGBAN_UPLOAD_MAX_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Accepted kinds of uploaded material, decided by their content (magic bytes), never by their name.
UPLOAD_ALLOWED_MIME = ("application/pdf", "image/jpeg", "image/png")

# TONGBAN_DUE_SOON_WORKDAYS: a case is marked 临近到期 this many working days before its deadline.
DUE_SOON_WORKDAYS = env_int("TONGBAN_DUE_SOON_WORKDAYS", 2)

# TONGBAN_EMAIL_BACKEND: Django mail backend; console by default, SMTP in production.
EMAIL_BACKEND = env_str("TONGBAN_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# TONGBAN_EMAIL_HOST / TONGBAN_EMAIL_PORT: the SMTP relay when the SMTP backend is used.
EMAIL_HOST = env_str("TONGBAN_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TONGBAN_EMAIL_PORT", 25)
# TONGBAN_EMAIL_FROM: sender address of notification e-mails.
DEFAULT_FROM_EMAIL = env_str("TONGBAN_EMAIL_FROM", "noreply@tongban.invalid")

# TONGBAN_LOG_LEVEL: log level of the node's own loggers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "tongban.core.logging.MaskPIIFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_pii"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"tongban": {"level": env_str("TONGBAN_LOG_LEVEL", "INFO"), "propagate": True}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Federation (tongban.exchange) -------------------------------------------------------------
# TONGBAN_KEY_DIR: where this node's signing keys live (encrypted PEM files, mode 0600, never in git).
KEY_DIR = Path(env_str("TONGBAN_KEY_DIR", str(VAR_DIR / "keys")))
# TONGBAN_SIGNATURE_SUITE: the algorithm of this node's new keys, which sign its envelopes and the
# certificates it issues: Ed25519 (default, fastest) or SM2-SM3 (国密). Every node verifies both.
SIGNATURE_SUITE = env_str("TONGBAN_SIGNATURE_SUITE", "Ed25519")

# 一件事 bundles (docs/bundles.md). The simulated bank that stands in for a real one in the demo:
# TONGBAN_SIMBANK_FAIL_RATE of its calls fail (and are retried), each after up to TONGBAN_SIMBANK_DELAY_MS.
SIMBANK_FAIL_RATE = env_float("TONGBAN_SIMBANK_FAIL_RATE", 0.2)
SIMBANK_DELAY_MS = env_int("TONGBAN_SIMBANK_DELAY_MS", 300)
# TONGBAN_BUNDLE_EXTERNAL_ATTEMPTS: calls to an outside party before its step is marked failed.
BUNDLE_EXTERNAL_ATTEMPTS = env_int("TONGBAN_BUNDLE_EXTERNAL_ATTEMPTS", 8)

# Electronic certificates (docs/certificates.md).
# TONGBAN_CERT_STATUS_SYNC_SECONDS: how often the worker sends this node's status list to the others
# when it changed: a suspension or revocation is refused everywhere within about this long.
CERT_STATUS_SYNC_SECONDS = env_int("TONGBAN_CERT_STATUS_SYNC_SECONDS", 15)
# TONGBAN_CERT_STATUS_REFRESH_MINUTES: a status list is re-signed (and re-sent) at least this often.
CERT_STATUS_REFRESH_MINUTES = env_int("TONGBAN_CERT_STATUS_REFRESH_MINUTES", 60)
# TONGBAN_CERT_STATUS_LIST_LIFETIME_HOURS: how long a status list may be relied on; after that the
# issuer's certificates are refused with CERT_STATUS_STALE until a newer list arrives.
CERT_STATUS_LIST_LIFETIME_HOURS = env_int("TONGBAN_CERT_STATUS_LIST_LIFETIME_HOURS", 48)
# TONGBAN_CERT_STATUS_CACHE_SECONDS: each process re-reads a status list from the database this often.
CERT_STATUS_CACHE_SECONDS = env_float("TONGBAN_CERT_STATUS_CACHE_SECONDS", 1.0)
# TONGBAN_TRUST_ANCHOR_KEY: the federation trust anchor's public key(s), base64url raw Ed25519,
# comma-separated during an anchor key rollover. Trust lists not signed by one of them are refused.
TRUST_ANCHOR_KEYS = env_list("TONGBAN_TRUST_ANCHOR_KEY", [])
# TONGBAN_TRUST_LIST_URL: where the signed trust list is fetched from (http(s):// or a file path).
TRUST_LIST_URL = env_str("TONGBAN_TRUST_LIST_URL", "")
# TONGBAN_TRUST_GRACE_HOURS: how long past its next_update the last good trust list is still used
# when the anchor cannot be reached.
TRUST_GRACE_HOURS = env_int("TONGBAN_TRUST_GRACE_HOURS", 72)
# TONGBAN_EXCHANGE_MAX_BODY_BYTES: largest request body the envelope endpoint accepts.
EXCHANGE_MAX_BODY_BYTES = env_int("TONGBAN_EXCHANGE_MAX_BODY_BYTES", 32 * 1024 * 1024)
# TONGBAN_EXCHANGE_MAX_AGE_SECONDS / TONGBAN_EXCHANGE_MAX_SKEW_SECONDS: freshness window of an envelope.
EXCHANGE_MAX_AGE_SECONDS = env_int("TONGBAN_EXCHANGE_MAX_AGE_SECONDS", 300)
EXCHANGE_MAX_SKEW_SECONDS = env_int("TONGBAN_EXCHANGE_MAX_SKEW_SECONDS", 30)
# TONGBAN_EXCHANGE_MAX_ATTEMPTS: delivery attempts before a message is parked for an operator.
# With the 5-minute backoff cap, 60 attempts keep trying for about four hours.
EXCHANGE_MAX_ATTEMPTS = env_int("TONGBAN_EXCHANGE_MAX_ATTEMPTS", 60)
# TONGBAN_EXCHANGE_BATCH: envelopes per delivery request.
EXCHANGE_BATCH = env_int("TONGBAN_EXCHANGE_BATCH", 200)
# TONGBAN_EXCHANGE_TIMEOUT_SECONDS: HTTP timeout of one delivery request.
EXCHANGE_TIMEOUT_SECONDS = env_int("TONGBAN_EXCHANGE_TIMEOUT_SECONDS", 10)

# --- Background work ------------------------------------------------------------------------------
# CELERY_BROKER_URL: a real broker (redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//)
# for production. Unset: background work runs in-process (`tongban worker`), nothing to install.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
# TONGBAN_WORKER_INTERVAL_MS: how often the embedded worker looks for work when idle.
WORKER_INTERVAL_MS = env_int("TONGBAN_WORKER_INTERVAL_MS", 200)
