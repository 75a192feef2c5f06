"""What the alert-source parsers share: a payload the bot takes but does not act on, epoch and
RFC 3339 times checked like Alertmanager's, and pydantic problems as one line each."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.alerts import MAX_TEXT, Alert, AlertGroup, AlertPayloadError
from bot.core.milestones import instant_problem

MAX_LABELS = 64
MAX_LABEL = 1000


@dataclass(frozen=True)
class NotActedOn:
    """A well-formed notification that opens, joins and resolves nothing (a Datadog `Warn`,
    a New Relic `CREATED`, a CloudWatch `INSUFFICIENT_DATA`), with the reason."""

    reason: str


Parsed = AlertGroup | NotActedOn


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=MAX_TEXT)


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], payload: Any) -> M:
    if not isinstance(payload, Mapping):
        raise AlertPayloadError(["the body must be a JSON object"])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise AlertPayloadError(
            [
                f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                for err in exc.errors()[:20]
            ]
        ) from exc


def epoch_ms(value: str | int | float | None, field: str) -> datetime | None:
    """Milliseconds since the epoch (a number, or digits in a string as Datadog's `$DATE` is);
    None when empty; AlertPayloadError when not a time the timeline can hold."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise AlertPayloadError([f"{field}: milliseconds since the epoch, not {value!r}"])
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,16}(\.\d{1,6})?", text):
        raise AlertPayloadError([f"{field}: milliseconds since the epoch, not {text[:40]!r}"])
    try:
        at = datetime.fromtimestamp(float(text) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        at = None
    problem = instant_problem(at) if at is not None else "is out of range"
    if at is None or problem is not None:
        raise AlertPayloadError([f"{field}: {problem}"])
    return at


def rfc3339(value: str, field: str) -> datetime:
    """An ISO 8601 / RFC 3339 time with a zone; CloudWatch writes `+0000` without a colon."""
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.strip())
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AlertPayloadError([f"{field}: not an ISO 8601 time: {value[:60]!r}"]) from None
    problem = instant_problem(at)
    if problem is not None:
        raise AlertPayloadError([f"{field}: {problem}"])
    return at.astimezone(UTC)


def pairs(text: str) -> dict[str, str]:
    """`key:value` tags (Datadog's `$TAGS`, `$ALERT_SCOPE`, an alarm's description), comma or
    space separated; the first value of a key wins; bare words are skipped."""
    labels: dict[str, str] = {}
    for raw in re.split(r"[,\s]+", text):
        key, sep, value = raw.partition(":")
        key, value = key.strip(), value.strip()
        if sep and key and value and key not in labels and len(labels) < MAX_LABELS:
            labels[key[:MAX_LABEL]] = value[:MAX_LABEL]
    return labels


def digest(*parts: str) -> str:
    """A short stable id (an alert's fingerprint) from the parts that name it."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def clean(labels: Mapping[str, object]) -> dict[str, str]:
    """Labels as strings, empty values dropped, bounded."""
    out: dict[str, str] = {}
    for key, value in labels.items():
        if isinstance(value, list):
            value = value[0] if value else ""
        if value is None or isinstance(value, dict | list):
            continue
        text = str(value).strip()
        if text and len(out) < MAX_LABELS:
            out[str(key)[:MAX_LABEL]] = text[:MAX_LABEL]
    return out


def one_alert_group(
    *, source: str, sender: str, group_key: str, alert: Alert, title: str = ""
) -> AlertGroup:
    """A group of the one alert a source's notification is about (a monitor, an issue, an
    alarm), grouped by its `alertname` as Alertmanager's groups are."""
    return AlertGroup(
        source=source,
        sender=sender,
        group_key=group_key,
        status=alert.status,
        group_labels={"alertname": alert.labels["alertname"]},
        common_labels={},
        common_annotations={},
        external_url="",
        alerts=(alert,),
        title=title,
    )
