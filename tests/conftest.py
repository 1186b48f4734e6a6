"""Test settings: own database, own Redis key prefix, never the developer's data.

The environment is set at import time, before anything reads ``pulse.settings``.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import uuid

TEST_DATABASE = os.environ.get("PULSE_TEST_DATABASE", "pulse_test")
PG_SERVER_URL = os.environ.get("PULSE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")
TEST_DATABASE_URL = f"{PG_SERVER_URL}/{TEST_DATABASE}"
TEST_REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_REDIS_PREFIX = f"test:{uuid.uuid4().hex[:12]}:"

os.environ.update(
    {
        "PULSE_ENVIRONMENT": "test",
        "PULSE_DATABASE_URL": TEST_DATABASE_URL,
        "PULSE_REDIS_URL": TEST_REDIS_URL,
        "PULSE_REDIS_KEY_PREFIX": TEST_REDIS_PREFIX,
        "PULSE_JWT_SECRET": secrets.token_urlsafe(48),
        "PULSE_JWT_SECRET_ARN": "",
        # Tests register many accounts from one address; the limit has a test of its own.
        "PULSE_REGISTER_MAX_PER_IP": "100000",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "PulseTest",
        # The columnar archive is on, as in the local runtime: every rollup run archives the
        # days it completes, and filtered reports read them (tests/integration/test_archive.py
        # also reads with it off).
        "PULSE_ARCHIVE_DIR": tempfile.mkdtemp(prefix="pulse-test-archive-"),
        "PULSE_ARCHIVE_CACHE_DIR": tempfile.mkdtemp(prefix="pulse-test-archive-cache-"),
    }
)
for _directory in (os.environ["PULSE_ARCHIVE_DIR"], os.environ["PULSE_ARCHIVE_CACHE_DIR"]):
    atexit.register(shutil.rmtree, _directory, ignore_errors=True)
