"""Settings from config.toml, with the database URL overridable from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"


@dataclass(frozen=True)
class RatingDefaults:
    """The risk-rating defaults of DESIGN.md section 4; any metric may override its tolerance."""

    default_tolerance_percent: float = 5.0
    stable_threshold_percent: float = 1.0
    risk_low_max: int = 2
    risk_medium_max: int = 4
    rollup_red_share: float = 1 / 3
    rollup_amber_share: float = 1 / 3
    spc_min_points: int = 12


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


@dataclass(frozen=True)
class Settings:
    """Everything config.toml says, resolved."""

    council_name: str = "Demo council"
    database_url: str = "sqlite:///data/scorecard.db"
    financial_year_start_month: int = 4
    entry_deadline_working_days: int = 10
    rating: RatingDefaults = field(default_factory=RatingDefaults)
    metric_defaults: MetricDefaults = field(default_factory=MetricDefaults)
    upload: UploadLimits = field(default_factory=UploadLimits)
    identity_mode: str = "demo"
    demo_default_persona: str = ""


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
        database_url=_resolve_sqlite_path(url or Settings.database_url),
        financial_year_start_month=int(periods.get("financial_year_start_month", 4)),
        entry_deadline_working_days=int(periods.get("entry_deadline_working_days", 10)),
        rating=RatingDefaults(**raw.get("rating", {})),
        metric_defaults=MetricDefaults(**raw.get("metric_defaults", {})),
        upload=UploadLimits(**raw.get("upload", {})),
        identity_mode=identity.get("mode", "demo"),
        demo_default_persona=identity.get("demo_default_persona", ""),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
