"""Reminders by e-mail: each responsible officer gets their own overdue measures.

Messages are composed purely from the chase list (`quality.chase_list`); `send` hands them to
the SMTP relay in config.toml. With no relay host configured nothing is sent, so the demo never
e-mails anyone unless a council fills `[smtp]` in.
"""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import pandas as pd

from metrics.config import Smtp
from metrics.vocab import Status


def compose(chase: pd.DataFrame, *, sender: str, council: str) -> list[EmailMessage]:
    """One message per responsible officer's e-mail, listing their Overdue measures."""
    overdue = chase[(chase["status"] == Status.OVERDUE.value) & (chase["responsible_email"] != "")]
    messages = []
    for email, rows in overdue.groupby("responsible_email", sort=True):
        message = EmailMessage()
        message["From"], message["To"] = sender, str(email)
        count = len(rows)
        message["Subject"] = (
            f"{council}: {count} performance value{'s' if count != 1 else ''} overdue"
        )
        lines = [
            f"- {row.code} {row.title} ({row.team}), {row.period}: due {row.deadline:%d %b %Y}, "
            f"{row.days_overdue} day{'s' if row.days_overdue != 1 else ''} overdue"
            for row in rows.itertuples()
        ]
        officer = rows["responsible_officer"].iloc[0] or "colleague"
        message.set_content(
            f"Dear {officer},\n\nThese values are past their entry deadline:\n\n"
            + "\n".join(lines)
            + "\n\nPlease enter and submit them in Line of Sight.\n"
        )
        messages.append(message)
    return messages


def without_email(chase: pd.DataFrame) -> pd.DataFrame:
    """Overdue measures nobody can be reminded of: their template has no responsible e-mail."""
    return chase[(chase["status"] == Status.OVERDUE.value) & (chase["responsible_email"] == "")]


def send(messages: list[EmailMessage], smtp: Smtp) -> int:
    """Send through the relay (STARTTLS and login if configured); how many were sent."""
    if not smtp.host or not messages:
        return 0
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as relay:
        if smtp.starttls:
            relay.starttls()
        if smtp.username:
            relay.login(smtp.username, os.environ.get(smtp.password_env, ""))
        for message in messages:
            relay.send_message(message)
    return len(messages)
