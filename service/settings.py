"""All configuration, read once from ``EVIDENCIA_*`` environment variables.

No other module reads ``os.environ`` for configuration. Bad values fail at start-up with a
message that names the variable. What the extractors need of it travels as the one
``ExtractOptions`` value :meth:`Settings.extract_options` builds, handed to ``extract()`` by the
API (uploads), the worker (every job) and ``evidencia analyze``; nothing changes a default at
run time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "PLACEHOLDER_SECRET_KEYS", "MIN_SECRET_KEY_LENGTH"]

#: Values of ``EVIDENCIA_SECRET_KEY`` that are public (old defaults, examples): never accepted.
PLACEHOLDER_SECRET_KEYS = frozenset({
    "", "cambie-esta-clave-en-produccion", "change-me", "changeme", "secret", "dev", "test",
})
#: The levels ``EVIDENCIA_LOG_LEVEL`` may name (any case), the standard library's.
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Shorter keys are guessable offline from one stored session digest.
MIN_SECRET_KEY_LENGTH = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVIDENCIA_", extra="ignore")

    #: Folder for the content-addressed file store and the default SQLite database.
    data_dir: Path = Path("data")
    #: SQLAlchemy URL; empty means a SQLite file inside ``data_dir``.
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"

    #: Upload limits: one file, and files per request (a ZIP counts its members). The same
    #: file limit is the extractors' (``extract_options``): what the API accepts, a worker reads.
    max_file_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    max_files_per_upload: int = Field(default=500, gt=0)
    #: Largest request body, checked as it arrives (``Content-Length`` first, then the bytes
    #: streamed), before anything is spooled to disk: 0 means the file limit plus 1 MiB for the
    #: form around it, so one upload request carries at most ``max_file_bytes`` of files.
    max_request_bytes: int = Field(default=0, ge=0)
    #: Largest body that is not an upload (JSON, forms): nothing the API takes comes near it.
    max_form_bytes: int = Field(default=1024 * 1024, gt=0)
    #: Tesseract processes one job runs at once; 0 means the extractors' default (one per
    #: core). With several workers on one machine, 1 (``evidencia worker --ocr-threads``).
    ocr_workers: int = Field(default=0, ge=0)

    #: Database connections each process may hold. The API lets this many requests use the
    #: database at once; the others wait for their turn without holding a thread, so requests
    #: that hold a connection can always get a thread and the pool is never exhausted.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    #: Seconds a request waits for its turn at the database before a 503 (it never hangs).
    db_pool_timeout: float = Field(default=5.0, gt=0, le=300)
    #: API processes ``evidencia serve`` runs (uvicorn's workers; ``--workers`` overrides it):
    #: 0 means one per core beyond the first, at most 2 (:attr:`api_processes`): the other
    #: core is left to the database, the workers and the clients. One process serves its
    #: requests on one core; the processes share nothing but the database and Redis (the
    #: answers each keeps per submission version are checked against the database's stamp on
    #: every request). Each may open ``db_pool_size`` + 5 connections.
    api_workers: int = Field(default=0, ge=0, le=32)

    #: Seconds an rq job may run before it is killed (a 400-page scan takes minutes).
    job_timeout: int = Field(default=3600, gt=0)
    #: Retries for transient failures (Redis/database hiccups), never for bad files.
    job_retries: int = Field(default=3, ge=0)
    #: Starts after which a document whose processing keeps dying (its work horse killed, e.g.
    #: for memory, every time) ends in ``error`` instead of being queued again without end.
    job_max_attempts: int = Field(default=5, ge=1)
    #: Seconds between a busy worker's heartbeats. Recovery without an operator is paced by
    #: it (``evidencia_queue.defaults.Pace``: running marks, orphan sweeps, dead workers):
    #: about 9 heartbeats after a worker is killed. Tests lower it to 1.
    heartbeat_seconds: int = Field(default=4, ge=1, le=60)
    #: What carries jobs to the workers ("module:Class", see ``service.domain.dispatch``).
    dispatcher: str = "evidencia_queue.dispatch:RqDispatcher"

    #: Keys the stored digests of reviewer sessions and the throttling counters. There is no
    #: default: the API refuses to start without one (``secret_key_problem``); ``evidencia up``
    #: (the one-machine development command, ``scripts/run``) creates a random one in the data
    #: folder on first start and reuses it.
    secret_key: str = ""
    #: Bearer token Prometheus sends to read ``/metrics`` (``Authorization: Bearer ...``);
    #: without one, only a logged-in reviewer may read it.
    metrics_token: str = ""

    #: Login throttling (``service.throttle``, counted in Redis so every API process shares
    #: it): attempts per account and per client address within the window; a correct login
    #: does not count. Ten wrong passwords per account in 15 minutes stop online guessing
    #: while a reviewer who mistypes a few times is never locked out.
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_attempts_per_address: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    #: argon2 verifications one process runs at once (64 MiB each): bounds the memory a burst
    #: of parallel logins can take; the others wait their turn (``db_pool_timeout``, then 503).
    password_hash_slots: int = Field(default=2, ge=1, le=64)
    #: Anonymous submissions one client address may create per window (an organisation makes
    #: one; a shared office a few): beyond it, a Spanish 429.
    submissions_per_address: int = Field(default=30, ge=1)
    submissions_window_seconds: int = Field(default=3600, ge=1)
    #: "Perdí el enlace" requests per client address in the same window: each rotates tokens
    #: and sends an e-mail, and a person needs one or two.
    link_requests_per_address: int = Field(default=10, ge=1)

    #: Base URL printed in links (the README's main command sets it).
    public_url: str = "http://127.0.0.1:8000"
    #: Outgoing mail (outcome e-mails to applicants, a lost link sent again). No host: no
    #: e-mail is sent (each one is recorded in the outbox as ``skipped``).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, le=65535)
    #: ``starttls`` (port 587), ``ssl`` (implicit TLS, port 465) or ``none`` (a local relay)
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Compromiso Migrante <no-responder@localhost>"
    #: Seconds to reach and talk to the SMTP server before the attempt counts as failed.
    smtp_timeout: float = Field(default=20.0, gt=0, le=300)
    #: Further attempts after a failed send (rq retries, growing intervals up to an hour).
    mail_retries: int = Field(default=5, ge=0, le=20)

    #: Log level; empty means INFO for the long-running commands (serve, worker) and WARNING
    #: for the others, whose output is for a person at a terminal.
    log_level: str = ""

    @field_validator("database_url")
    @classmethod
    def _no_spaces(cls, v: str) -> str:
        return v.strip()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        # checked here, not by logging.basicConfig, whose ValueError was a traceback
        if v.strip() and v.strip().upper() not in _LOG_LEVELS:
            raise PydanticCustomError("log_level", "unknown log level")
        return v.strip()

    @property
    def request_limit(self) -> int:
        """Bytes an upload request may carry (``max_request_bytes``, see there)."""
        return self.max_request_bytes or self.max_file_bytes + 1024 * 1024

    @property
    def secret_key_problem(self) -> str | None:
        """Why the secret key cannot protect a deployment (missing, a public placeholder, too
        short), or None when it can."""
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRET_KEYS:
            return "missing" if not self.secret_key.strip() else "placeholder"
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            return "short"
        return None

    @property
    def secret_key_file(self) -> Path:
        """Where ``evidencia up`` keeps the random key it made for a development machine."""
        return self.data_dir / "secret-key"

    @property
    def db_pool_overflow(self) -> int:
        """Connections beyond the pool for work outside the request gate (/readyz, /metrics,
        the worker's sweep): a few, so such checks never wait behind requests."""
        return 5

    @property
    def api_processes(self) -> int:
        """``api_workers``, or one per core beyond the first, at most 2. On 2 cores two API
        processes answered more requests but, with the database and the clients on the same
        cores, 1 % of them waited 0.4-0.7 s (p99 70 ms with one); two processes of 25
        connections also leave PostgreSQL's default 100 room for the workers and a shell."""
        if self.api_workers:
            return self.api_workers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, min((cores or 1) - 1, 2))

    @property
    def api_threads(self) -> int:
        """Threads for the API's sync routes: one per request admitted to the database, plus
        ten for requests that need none (static files, health), so neither starves the other.
        Sized from the pool here, in one place, because the two must move together."""
        return self.db_pool_size + 10

    def extract_options(self, *, ocr_workers: int | None = None):
        """The extractors' options for this deployment (``ocr_workers`` overrides the
        setting: a worker's ``--ocr-threads``)."""
        from extractors.options import ExtractOptions

        chosen = {"max_file_bytes": self.max_file_bytes}
        workers = ocr_workers or self.ocr_workers
        if workers:
            chosen["ocr_workers"] = workers
        return ExtractOptions(**chosen)

    @property
    def model_dir(self) -> Path:
        """Where ``evidencia train`` keeps the second-stage model it promoted."""
        return self.data_dir / "model"

    def classifier_options(self):
        """The classifier's options for this deployment: the promoted model in the data folder
        (while there is none, the model shipped with the classifier)."""
        from classifiers.options import ClassifierOptions

        return ClassifierOptions(second_stage_file=self.model_dir / "second_stage.json")

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def renders_dir(self) -> Path:
        """Page images of the reviewers' document view, rendered once."""
        return self.data_dir / "renders"

    @property
    def annotations_dir(self) -> Path:
        """spaCy annotations kept per text, so reprocessing skips the neural pipeline."""
        return self.data_dir / "nlp"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'evidencia.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
