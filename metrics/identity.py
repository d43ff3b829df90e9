"""Who is using the app, decided without Streamlit: the trusted-proxy header, the demo's guard
against a council's own data, and the idle timeout (docs/sign-in.md). The router (pages/_ui)
reads the request and the session and asks these functions."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from sqlalchemy import Engine

from metrics import queries
from metrics.config import Identity

DEMO_DOMAIN = "demo.melburyvale.gov.uk"
MODES = ("demo", "header", "oidc")


class IdentityError(RuntimeError):
    """The app is configured so that it must not serve anyone; the message says how to fix it."""


def check_mode(identity: Identity) -> None:
    """IdentityError for a mode the app does not know (fail closed, never fall back to demo)."""
    if identity.mode not in MODES:
        raise IdentityError(f"[identity] mode = {identity.mode!r} is not one of {', '.join(MODES)}")


def normal_email(email: object) -> str:
    """An e-mail as the users table keys it."""
    return str(email or "").strip().lower()


def from_trusted_proxy(address: str | None, trusted: Iterable[str]) -> bool:
    """Whether the connection comes from one of the configured proxy addresses or networks.
    Streamlit reports a loopback connection as no address: that is 127.0.0.1."""
    try:
        ip = ipaddress.ip_address(address or "127.0.0.1")
    except ValueError:
        return False
    for network in trusted:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def header_email(headers: Mapping[str, str], address: str | None, identity: Identity) -> str:
    """The e-mail the trusted proxy named, or "" when the request did not come through it or
    names nobody."""
    if not from_trusted_proxy(address, identity.trusted_proxies):
        return ""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    return normal_email(lowered.get(identity.header_name.lower(), ""))


def demo_data_only(engine: Engine, domain: str = DEMO_DOMAIN) -> list[str]:
    """Who, in this database, is not one of the demo council's people: users outside the demo's
    e-mail domain, and people (e-mail addresses) outside it the audit trail names. Command-line
    and loader actors (`cli:...`, `demo loader`) name no person. Empty when the demo may run."""
    emails, actors = queries.people(engine)
    people = [*emails, *(actor for actor in actors if "@" in actor)]
    return sorted({who.lower() for who in people if not who.lower().endswith("@" + domain)})


def demo_refusal(engine: Engine, identity: Identity) -> str | None:
    """Why demo mode must not start on this database (None when it may)."""
    if identity.mode != "demo" or identity.allow_demo_over_real_data:
        return None
    strangers = demo_data_only(engine)
    if not strangers:
        return None
    return (
        f"Demo mode will not start: this database holds {len(strangers)} person(s) who are not "
        "part of the demo council, so it looks like a council's own data. Set [identity] mode "
        'to "header" or "oidc", or allow_demo_over_real_data = true if this really is a demo.'
    )


def idle_expired(last_seen: float | None, now: float, minutes: int) -> bool:
    """Whether a session last active at `last_seen` (seconds) has been idle too long."""
    return bool(minutes) and last_seen is not None and now - last_seen > minutes * 60
