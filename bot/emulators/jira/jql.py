"""A JQL subset: clauses joined with ``AND``/``OR``/``NOT`` and parentheses, then ``ORDER BY``.

Fields: ``project``, ``key``/``issuekey``/``id``, ``parent``, ``labels``, ``summary``,
``description``, ``environment``, ``comment``, ``text``, ``status``, ``statusCategory``,
``issuetype``/``type``, ``priority``, ``assignee``/``reporter``/``creator`` (``currentUser()``),
``resolution``, ``created``/``updated``/``resolved`` (dates and ``-1d``-style periods) and custom
fields by ``cf[10010]`` or name. Operators ``= != ~ !~ < <= > >= IN NOT IN IS IS NOT`` where Jira
allows them. The query is validated before it runs, like Jira's ``validateQuery=strict``: an
unknown field, value or key is a 400 with Jira's message; so is anything outside the subset.

``~`` is word based: every word must occur (case-insensitive, a trailing ``*`` matches a prefix,
a plural ``s`` is ignored); ``"\\"exact phrase\\""`` needs the words in a row. ``!=`` and
``NOT IN`` never match an empty field, as in Jira.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable

from . import adf
from .jql_parse import Clause, Combo, JqlError as JqlError, Node, Not, Value, parse
from .jql_sort import sort_key
from .records import Issue, User
from .state import Site

Pred = Callable[[Issue], bool]
_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_DATES = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


# ----------------------------------------------------------- evaluation
def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def text_matches(haystack: str, query: str) -> bool:
    words = _words(haystack)
    stripped = query.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        phrase = _words(stripped[1:-1])
        n = len(phrase)
        return n > 0 and any(words[i : i + n] == phrase for i in range(len(words) - n + 1))
    terms = re.findall(r"[\w'*?]+", stripped.lower())
    if not terms:
        return False

    def found(term: str) -> bool:
        if "*" in term or "?" in term:
            pattern = re.compile(re.escape(term).replace(r"\*", r"\w*").replace(r"\?", r"\w") + "$")
            return any(pattern.match(w) for w in words)
        return any(w == term or w.rstrip("s") == term.rstrip("s") for w in words)

    return all(found(t) for t in terms)


def _date(value: Value, field: str) -> float:
    text = value.text.strip()
    if value.function and text.lower() == "now":
        return time.time()
    period = _PERIOD.match(text)
    if period and not value.function:
        seconds = sum(int(n) * _UNITS[u.lower()] for n, u in _PERIOD_PART.findall(period.group(2)))
        return time.time() + (-seconds if period.group(1) == "-" else seconds)
    for fmt in _DATES:
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{text}' for field '{field}' is invalid. Valid formats include:"
        " 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period"
        " format e.g. '-5d', '4w 2d'."
    )


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class Compiler:
    """Turns a parsed query into a predicate for ``viewer``, checking fields and values."""

    def __init__(self, site: Site, viewer: User) -> None:
        self.site = site
        self.viewer = viewer

    def node(self, node: Node) -> Pred:
        if isinstance(node, Not):
            inner = self.node(node.inner)
            return lambda issue: not inner(issue)
        if isinstance(node, Combo):
            parts = [self.node(p) for p in node.parts]
            if node.op == "and":
                return lambda issue: all(p(issue) for p in parts)
            return lambda issue: any(p(issue) for p in parts)
        return self.clause(node)

    def unsupported(self, clause: Clause, name: str) -> JqlError:
        return JqlError(
            f"The operator '{clause.op.upper()}' is not supported by the '{name}' field."
        )

    def no_value(self, value: Value, name: str) -> JqlError:
        return JqlError(f"The value '{value.text}' does not exist for the field '{name}'.")

    def clause(self, clause: Clause) -> Pred:
        name = clause.field.lower()
        if name in ("project",):
            return self.matching(clause, "project", self.project_id, lambda i: [i.project_id])
        if name in ("key", "issuekey", "id", "issue"):
            return self.matching(clause, clause.field, self.issue_id, lambda i: [i.id])
        if name == "parent":
            return self.matching(clause, "parent", self.issue_id, lambda i: _opt(i.parent_id))
        if name == "labels":
            return self.matching(clause, "labels", lambda v: v.text, lambda i: i.labels)
        if name in ("status", "issuetype", "type", "priority", "statuscategory"):
            return self.catalogue(clause, name)
        if name in ("assignee", "reporter", "creator"):
            return self.matching(clause, name, self.user_name, lambda i: _opt(getattr(i, name)))
        if name == "resolution":
            return self.resolution(clause)
        if name in ("summary", "description", "environment", "comment", "text"):
            return self.text(clause, name)
        if name in (
            "created",
            "createddate",
            "updated",
            "updateddate",
            "resolved",
            "resolutiondate",
        ):
            return self.dates(clause, name)
        custom = self.site.custom_field_of(clause.field)
        if custom is None:
            raise JqlError(
                f"Field '{clause.field}' does not exist or you do not have permission to view it."
            )
        if custom.kind == "string":
            return self.text(clause, custom.id)
        if custom.kind == "number":
            return self.numbers(clause, custom.id)
        return self.matching(
            clause,
            custom.name,
            self.option(custom.options, custom.name),
            lambda i: _opt(i.custom.get(custom.id)),
        )

    # -- value resolution (raising Jira's "does not exist" errors)
    def project_id(self, value: Value) -> str:
        project = self.site.project_of(value.text)
        if project is None or self.site.denial(self.viewer, project.id):
            project = next(
                (p for p in self.site.projects.values() if p.name.lower() == value.text.lower()),
                None,
            )
        if project is None or self.site.denial(self.viewer, project.id):
            raise self.no_value(value, "project")
        return project.id

    def issue_id(self, value: Value) -> str:
        issue = self.site.issue_of(value.text)
        if issue is None or not self.site.visible(self.viewer, issue):
            raise JqlError(f"An issue with key '{value.text}' does not exist for field 'key'.")
        return issue.id

    def user_name(self, value: Value) -> str:
        if value.function:
            if value.text.lower() != "currentuser":
                raise JqlError(f"Unable to find JQL function '{value.text}()'.")
            return self.viewer.name
        user = self.site.user_named(value.text)
        if user is None:
            raise JqlError(f"The value '{value.text}' does not exist for the field 'user'.")
        return user.name

    def option(self, options: tuple[str, ...], name: str) -> Callable[[Value], str]:
        def resolve(value: Value) -> str:
            if value.text not in options:
                raise self.no_value(value, name)
            return value.text

        return resolve

    # -- clause kinds
    def matching(
        self,
        clause: Clause,
        name: str,
        resolve: Callable[[Value], str],
        current: Callable[[Issue], list[str]],
    ) -> Pred:
        """``=``, ``!=``, ``IN``, ``NOT IN``, ``IS [NOT] EMPTY`` against a list of values."""
        if clause.op in ("is", "is not"):
            empty = clause.op == "is"
            return lambda issue: (not current(issue)) == empty
        if clause.op not in ("=", "!=", "in", "not in"):
            raise self.unsupported(clause, name)
        if clause.op in ("=", "!=") and any(
            v.text.lower() in ("empty", "null") and not v.quoted for v in clause.values
        ):
            empty = clause.op == "="
            return lambda issue: (not current(issue)) == empty
        wanted = {resolve(v) for v in clause.values}
        if clause.op in ("=", "in"):
            return lambda issue: bool(wanted & set(current(issue)))
        return lambda issue: bool(current(issue)) and not wanted & set(current(issue))

    def catalogue(self, clause: Clause, name: str) -> Pred:
        site = self.site

        def resolve(value: Value) -> str:
            if name == "status":
                found = site.status_of(value.text)
                return _found(found.id if found else None, value, "status")
            if name == "statuscategory":
                low = value.text.lower()
                cats = {
                    "new": ("2", "to do"),
                    "indeterminate": ("4", "in progress"),
                    "done": ("3", "done"),
                }
                for key, aliases in cats.items():
                    if low == key or low in aliases:
                        return key
                raise self.no_value(value, "statusCategory")
            if name == "priority":
                prio = site.priority_of(value.text)
                return _found(prio.id if prio else None, value, "priority")
            kind = site.issue_type_of(value.text)
            if kind is None:
                kind = next(
                    (t for t in site.issue_types.values() if t.name.lower() == value.text.lower()),
                    None,
                )
            return _found(kind.id if kind else None, value, "issuetype")

        def current(issue: Issue) -> list[str]:
            if name == "status":
                return [issue.status_id]
            if name == "statuscategory":
                return [site.statuses[issue.status_id].category]
            if name == "priority":
                return [issue.priority_id]
            return [issue.type_id]

        return self.matching(clause, name, resolve, current)

    def resolution(self, clause: Clause) -> Pred:
        def resolve(value: Value) -> str:
            low = value.text.lower()
            if low == "unresolved":
                return ""
            if low in ("done", "10000"):
                return "10000"
            raise self.no_value(value, "resolution")

        return self.matching(clause, "resolution", resolve, lambda i: [i.resolution_id or ""])

    def text(self, clause: Clause, name: str) -> Pred:
        def haystack(issue: Issue) -> str:
            if name == "summary":
                return issue.summary
            if name in ("description", "environment"):
                return adf.plain(getattr(issue, name))
            comments = " ".join(adf.plain(c.body) for c in issue.comments)
            if name == "comment":
                return comments
            if name.startswith("customfield_"):
                return str(issue.custom.get(name) or "")
            parts = [issue.summary, adf.plain(issue.description), adf.plain(issue.environment)]
            return " ".join([*parts, comments])

        if clause.op in ("is", "is not") and name not in ("text", "comment"):
            empty = clause.op == "is"
            return lambda issue: (not haystack(issue).strip()) == empty
        if clause.op not in ("~", "!~"):
            raise self.unsupported(clause, clause.field)
        query = clause.values[0].text
        if clause.op == "~":
            return lambda issue: text_matches(haystack(issue), query)
        return lambda issue: not text_matches(haystack(issue), query)

    def dates(self, clause: Clause, name: str) -> Pred:
        if clause.op not in _COMPARE:
            if clause.op in ("is", "is not") and name in ("resolved", "resolutiondate"):
                empty = clause.op == "is"
                return lambda issue: (issue.resolved is None) == empty
            raise self.unsupported(clause, clause.field)
        bound = _date(clause.values[0], clause.field)
        compare = _COMPARE[clause.op]
        attr = {
            "createddate": "created",
            "updateddate": "updated",
            "resolutiondate": "resolved",
        }.get(name, name)

        def check(issue: Issue) -> bool:
            at = getattr(issue, attr)
            return at is not None and compare(at, bound)

        return check

    def numbers(self, clause: Clause, fid: str) -> Pred:
        if clause.op in ("is", "is not"):
            empty = clause.op == "is"
            return lambda issue: (issue.custom.get(fid) is None) == empty
        if clause.op not in _COMPARE:
            raise self.unsupported(clause, clause.field)
        try:
            bound = float(clause.values[0].text)
        except ValueError:
            raise self.no_value(clause.values[0], clause.field) from None
        compare = _COMPARE[clause.op]

        def check(issue: Issue) -> bool:
            value = issue.custom.get(fid)
            return value is not None and compare(float(value), bound)

        return check


def _opt(value: str | None) -> list[str]:
    return [value] if value else []


def _found(found: str | None, value: Value, name: str) -> str:
    if found is None:
        raise JqlError(f"The value '{value.text}' does not exist for the field '{name}'.")
    return found


def search(site: Site, viewer: User, text: str) -> list[Issue]:
    """The issues ``viewer`` may see that match ``text``, ordered like Jira (``created DESC``
    when the query names no order). Raises JqlError."""
    query = parse(text)
    match = Compiler(site, viewer).node(query.where) if query.where else (lambda issue: True)
    issues = [i for i in site.issues.values() if site.visible(viewer, i) and match(i)]
    if not query.order:
        issues.sort(key=lambda i: int(i.id), reverse=True)
        return issues
    keys = [(sort_key(site, name), descending) for name, descending in query.order]
    issues.sort(key=lambda i: int(i.id))
    for key, descending in reversed(keys):
        issues.sort(key=key, reverse=descending)
    return issues


def bounded(text: str) -> bool:
    """Jira Cloud's ``search/jql`` refuses a query without a search restriction."""
    return parse(text).where is not None
