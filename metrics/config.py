"""Settings from config.toml, with the database URL overridable from the environment."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from metrics.periods import Deadline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"


@dataclass(frozen=True)
class RatingRules:
    """The rating rules' settings (`docs/rating-rules.md`, config.toml `[rating]`); any metric
    may override its tolerance."""

    default_tolerance_percent: float = 5.0
    stable_threshold_percent: float = 1.0
    risk_low_max: int = 2
    risk_medium_max: int = 4
    rollup_red_share: float = 1 / 3
    rollup_amber_share: float = 1 / 3
    spc_min_points: int = 12
    spc_baseline_points: int = 0  # the first N points fix the XmR limits; 0: every point


@dataclass(frozen=True)
class MetricDefaults:
    """What a blank cell in the Metrics sheet becomes."""

    unit: str = "number"
    decimals: int = 0
    aggregation_number: str = "sum"
    aggregation_percent: str = "ratio"
    risk_impact: int = 2
    marking: str = "OFFICIAL"


@dataclass(frozen=True)
class UploadLimits:
    """Caps checked before an untrusted workbook is parsed."""

    max_file_bytes: int = 10_000_000
    max_uncompressed_bytes: int = 100_000_000
    max_rows: int = 100_000
    max_shared_strings: int = 500_000


@dataclass(frozen=True)
class Committee:
    """Who committee papers go to and come from, unless a snapshot or report says otherwise."""

    name: str = "Governance Committee"
    report_of: str = "Head of Communications"
    contact_officer: str = ""


@dataclass(frozen=True)
class Publication:
    """The transparency file: NOT PROTECTIVELY MARKED measures, and OFFICIAL ones only if set."""

    publish_official: bool = False


@dataclass(frozen=True)
class Public:
    """The public view: the latest published snapshot's NOT PROTECTIVELY MARKED measures, read
    without signing in. Off unless config.toml turns it on."""

    enabled: bool = False


@dataclass(frozen=True)
class EntryRules:
    """What a value needs before it may be saved or submitted (docs/data-entry.md)."""

    commentary_required_for: tuple[str, ...] = ("Red", "Amber")
    corrective_action_required_for: tuple[str, ...] = ("Red",)
    # A value more than this many standard deviations from its history's mean (while the history
    # is too short for an XmR chart) needs a confirming note; at least this many points first.
    outlier_sigma: float = 3.0
    outlier_min_points: int = 4


@dataclass(frozen=True)
class Smtp:
    """The relay reminders go through; no host means no e-mail is sent."""

    host: str = ""
    port: int = 25
    starttls: bool = False
    sender: str = ""
    username: str = ""
    password_env: str = "SCORECARD_SMTP_PASSWORD"  # noqa: S105  (names a variable, not a secret)


@dataclass(frozen=True)
class Identity:
    """How the app knows who is using it (docs/sign-in.md), config.toml `[identity]`."""

    mode: str = "demo"  # "demo" | "header" | "oidc"
    demo_default_persona: str = ""
    # demo mode refuses a database holding anyone but the demo's people, unless this is true
    allow_demo_over_real_data: bool = False
    # header mode: the trusted reverse proxy's header naming the signed-in e-mail, and the
    # addresses (or networks) the proxy connects from; a request from anywhere else is refused
    header_name: str = "X-Forwarded-Email"
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    sign_out_url: str = ""
    # after this many minutes without a click the session must sign in again (0: never)
    idle_timeout_minutes: int = 30
    # who a person with no account is told to ask
    access_contact: str = "the performance team"


@dataclass(frozen=True)
class Settings:
    """Everything config.toml says, resolved."""

    council_name: str = "Demo council"
    # The improvement programme the ME2E tier and initiatives belong to, spelled out for readers.
    programme: str = "Melton Extending To Excellence (ME2E)"
    database_url: str = "sqlite:///data/scorecard.db"
    financial_year_start_month: int = 4
    entry_deadline_working_days: int = 10
    bank_holidays: tuple[date, ...] = ()
    rating: RatingRules = field(default_factory=RatingRules)  # config.toml [rating]
    metric_defaults: MetricDefaults = field(default_factory=MetricDefaults)
    upload: UploadLimits = field(default_factory=UploadLimits)
    identity_mode: str = "demo"
    demo_default_persona: str = ""
    committee: Committee = field(default_factory=Committee)
    publication: Publication = field(default_factory=Publication)
    public: Public = field(default_factory=Public)
    entry: EntryRules = field(default_factory=EntryRules)
    smtp: Smtp = field(default_factory=Smtp)
    identity: Identity = field(default_factory=Identity)

    @property
    def deadline(self) -> Deadline:
        """The entry deadline rule: working days after the period ends, bank holidays skipped."""
        return Deadline(self.entry_deadline_working_days, frozenset(self.bank_holidays))


def _resolve_sqlite_path(url: str) -> str:
    """A relative SQLite path is taken from the project folder, not the working directory."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == "sqlite://":
        return url
    relative = url.removeprefix(prefix)
    if relative.startswith(":memory:"):
        return url
    return prefix + str(PROJECT_ROOT / relative)


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read config.toml (or SCORECARD_CONFIG); SCORECARD_DATABASE_URL beats the file."""
    env = os.environ if environ is None else environ
    path = path or Path(env.get("SCORECARD_CONFIG", DEFAULT_CONFIG))
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    periods = raw.get("periods", {})
    identity = raw.get("identity", {})
    url = env.get("SCORECARD_DATABASE_URL") or raw.get("database", {}).get("url")
    return Settings(
        council_name=raw.get("council", {}).get("name", Settings.council_name),
        programme=raw.get("council", {}).get("programme", Settings.programme),
        database_url=_resolve_sqlite_path(url or Settings.database_url),
        financial_year_start_month=int(periods.get("financial_year_start_month", 4)),
        entry_deadline_working_days=int(periods.get("entry_deadline_working_days", 10)),
        bank_holidays=tuple(sorted(_as_date(d) for d in periods.get("bank_holidays", []))),
        rating=RatingRules(**raw.get("rating", {})),
        metric_defaults=MetricDefaults(**raw.get("metric_defaults", {})),
        upload=UploadLimits(**raw.get("upload", {})),
        identity_mode=identity.get("mode", "demo"),
        demo_default_persona=identity.get("demo_default_persona", ""),
        committee=Committee(**raw.get("committee", {})),
        publication=Publication(**raw.get("publication", {})),
        public=Public(**raw.get("public", {})),
        entry=_entry_rules(raw.get("entry", {})),
        smtp=Smtp(**raw.get("smtp", {})),
        identity=_identity(identity, env),
    )


def _identity(raw: dict[str, Any], env: Mapping[str, str]) -> Identity:
    """`[identity]`, lists as tuples; SCORECARD_ALLOW_DEMO_OVER_REAL_DATA=1 beats the file."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    if env.get("SCORECARD_ALLOW_DEMO_OVER_REAL_DATA") == "1":
        values["allow_demo_over_real_data"] = True
    return Identity(**values)


def _as_date(value: object) -> date:
    """A TOML date, or an ISO date string."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _entry_rules(raw: dict[str, Any]) -> EntryRules:
    """Lists in TOML become tuples, so the settings stay hashable."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return EntryRules(**values)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
