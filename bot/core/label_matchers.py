"""Prometheus label matchers (`service=~"db|postgres.*"`), as playbooks match alert labels: the
four operators, quoted values, and regexes anchored to the whole value as Prometheus does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)
_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")  # `(?i)…`: RE2 allows it, Python only at the start


@lru_cache(maxsize=512)
def _anchored(pattern: str) -> re.Pattern[str]:
    flags = _FLAGS.match(pattern)
    head = flags.group() if flags else ""
    return re.compile(f"{head}(?:{pattern[len(head) :]})", re.DOTALL)


class LabelMatcher(BaseModel):
    """One Prometheus matcher; written in YAML as a string: `service=~"db|postgres.*"`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: object) -> object:
        if not isinstance(data, str):
            return data
        found = _MATCHER.match(data)
        if found is None:
            raise ValueError(
                f"{data!r} is not a label matcher (key=value, key!=value, key=~regex, key!~regex)"
            )
        name, op, value = found.groups()
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"') or value.endswith('\\"'):
                raise ValueError(f"{data!r}: unterminated quoted value")
            value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
        if op in ("=~", "!~"):
            try:  # alone first: the error's position is the author's, `a)|(b` is refused
                re.compile(value)
                _anchored(value)
            except re.error as exc:
                raise ValueError(f"{data!r}: invalid regex: {exc}") from None
        return {"name": name, "op": op, "value": value}

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return (_anchored(self.value).fullmatch(actual) is not None) == (self.op == "=~")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'
