"""The service's settings, from the environment (``INTEGRITY_*``) or a ``.env`` file.

With nothing set, the service keeps everything under ``./var``: an SQLite database, the
uploaded datasets, and on first start a generated admin token in ``var/admin-token`` (mode
0600) so that a fresh clone can make its first call with no configuration.
"""

from __future__ import annotations

import sys
import sysconfig
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEMO = Path("demo") / "longgang"


def bundled_demo() -> Path:
    """The demo district: in a checkout, fixtures/demo/longgang; in an installed package,
    the copy the wheel put under <prefix>/share/integrity (pyproject's data-files)."""
    checkout = ROOT / "fixtures" / DEMO
    if checkout.is_dir():
        return checkout
    for prefix in (sysconfig.get_path("data"), sys.prefix, sys.base_prefix):
        installed = Path(prefix) / "share" / "integrity" / DEMO
        if installed.is_dir():
            return installed
    return checkout  # missing: POST /demo says so


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTEGRITY_", env_file=".env", extra="ignore")

    # where datasets, the SQLite file and the first admin token live
    data_dir: Path = Path("var")
    # SQLAlchemy URL; empty: sqlite:///<data_dir>/integrity.db.
    # PostgreSQL: postgresql+psycopg://postgres@127.0.0.1:5432/test
    database_url: str = ""
    # keyed hash of API tokens (HMAC-SHA256): a stolen database does not give usable tokens;
    # empty: a random secret generated once and kept in <data_dir>/token-secret
    token_secret: str = ""
    # the bundled demo district (POST /demo loads it)
    demo_dir: Path = Field(default_factory=bundled_demo)
    demo_policy: str = "longgang-2023"
    # screenings run in this many background threads (each is CPU-bound pandas work)
    workers: int = 1
    # screenings that may wait beyond those running (``workers``); more are refused (429)
    queue_limit: int = 4
    # largest upload accepted, in bytes: the request body, and the files once unzipped
    max_upload_bytes: int = 512 * 1024 * 1024
    # an upload is validated in a child process with at most this much memory (bytes; 0:
    # unlimited) and this long (seconds; 0: unlimited)
    validate_memory_bytes: int = 8 * 1024**3
    validate_seconds: float = 900
    # how often (seconds) a worker looks for a screening finished by another worker, to
    # read the check index that worker kept (0: only at start-up)
    index_poll_seconds: float = 5.0
    # pre-award checks a minute for one token (429 beyond): guessing at ID numbers is slow
    check_rate_per_minute: int = 120
    # largest body of any other request (JSON, a policy file)
    max_body_bytes: int = 1024 * 1024

    @cached_property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'integrity.db').as_posix()}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"
