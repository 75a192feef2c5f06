"""The import contract of docs/ARCHITECTURE.md: the layers, no import cycles (not even through
imports inside functions), the emulators standing alone, and vendor names leaving the domain."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bot"

# layer → the other parts of `bot` it may import (itself always).
ALLOWED: dict[str, set[str]] = {
    "core": {"markup"},
    "store": {"core", "package_data"},
    "flows": {"core", "store", "markup", "logs"},
    "adapters": {"core", "store", "flows", "markup"},
    "web": {"core", "store", "flows", "adapters", "markup"},
    "emulators": set(),
    "markup": set(),
    "logs": set(),
    "settings": {"core", "logs", "package_data", "setting_rules", "catalog_file"},
    "setting_rules": set(),
    "catalog_file": {"core", "playbook_files"},
    "package_data": set(),
    "scheduler": {"flows", "store"},
}

# Lines naming a vendor in the domain layers, as of the last change: the vendor-neutral work
# (issue 14) lowers these; a change that adds one fails here. Lower the number when you remove some.
VENDOR = re.compile(r"slack|pagerduty|jira|opsgenie", re.IGNORECASE)
VENDOR_LINES = {"core": 0, "store": 0, "flows": 0}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_targets(source: str, package: str) -> Iterator[str]:
    """Every module (and `module.name`) a module's source imports, relative imports resolved
    against its `package`, including imports inside functions and `if TYPE_CHECKING:` blocks."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    for target in import_targets(source, package_of(name, path)):
        # a submodule's import of its own package is how packages load, not a cycle
        if target in known and target != name and not name.startswith(target + "."):
            yield target


@functools.cache
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports_of(name, path, known)) for name, path in known.items()}


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(name: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        if layer(module) == name
        for target in targets
        if layer(target) != name and layer(target) not in ALLOWED[name]
    )
    assert wrong == []


@pytest.mark.parametrize(("name", "budget"), sorted(VENDOR_LINES.items()))
def test_vendor_names_do_not_spread_in_the_domain(name: str, budget: int) -> None:
    lines = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted((PACKAGE / name).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if VENDOR.search(line)
    ]
    assert len(lines) <= budget, f"{len(lines)} lines name a vendor (at most {budget}): {lines}"


def test_the_contract_sees_a_cycle_and_a_wrong_layer() -> None:
    edges = {"bot.a": {"bot.b"}, "bot.b": {"bot.c"}, "bot.c": {"bot.a"}, "bot.d": set()}
    assert cycles(edges) == [["bot.a", "bot.b", "bot.c"]]
    assert layer("bot.core.lifecycle") == "core"


# The web gets plain read models (bot.store.read_models) from the store's queries: it writes no
# SQL and never holds an ORM row.
ORM = ("sqlmodel", "sqlalchemy", "bot.store.models")


def orm_imports(source: str, package: str) -> list[str]:
    return sorted(
        {
            target
            for target in import_targets(source, package)
            for orm in ORM
            if target == orm or target.startswith(orm + ".")
        }
    )


def test_the_web_imports_no_orm_and_no_tables() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in sorted(modules().items())
        if layer(name) == "web"
        for target in orm_imports(path.read_text(encoding="utf-8"), package_of(name, path))
    ]
    assert wrong == []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlmodel import select",
        "import sqlalchemy.orm",
        "from bot.store.models import Incident",
        "from bot.store import models",
        "from ..store.models import Incident",
        "from ..store import models as tables",
        "def f():\n    from sqlalchemy import text",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlmodel import Session",
    ],
)
def test_the_contract_sees_an_orm_import(source: str) -> None:
    assert orm_imports(source, "bot.web") != []


# What the web may import of the store: the database, the read models and the modules that answer
# them or plain values (not bot.store.incidents, alerts, outbox … whose answers are ORM rows).
WEB_READS = {
    "bot.store.dashboard_reads",
    "bot.store.db",
    "bot.store.gauges",
    "bot.store.incident_reads",
    "bot.store.read_models",
    "bot.store.reports",
    "bot.store.sign_in",
}


def store_modules_imported(source: str, package: str) -> set[str]:
    known = modules()
    return {
        target
        for target in import_targets(source, package)
        if layer(target) == "store" and target in known and target != "bot.store"
    }


def test_the_web_reads_the_store_only_through_its_read_models() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in sorted(modules().items())
        if layer(name) == "web"
        for target in sorted(
            store_modules_imported(path.read_text(encoding="utf-8"), package_of(name, path))
            - WEB_READS
        )
    ]
    assert wrong == []


def test_the_contract_sees_the_web_reach_past_the_read_models() -> None:
    source = "from bot.store import incidents as q, incident_reads"
    assert store_modules_imported(source, "bot.web") - WEB_READS == {"bot.store.incidents"}
    assert store_modules_imported("from ..store.alerts import ingest", "bot.web") == {
        "bot.store.alerts"
    }


def test_the_contract_lets_the_web_read_models() -> None:
    source = "from bot.store import incident_reads\nfrom bot.store.read_models import Scope"
    assert orm_imports(source, "bot.web") == []


# Every flows module leaves the SQL to the store (issue 14): it imports no `sqlmodel`,
# `sqlalchemy` or `bot.store.models` and calls nothing on a session; the store takes ids and
# answers read models (bot.store.read_models, chat_state.ChatIncident, playbook_runs.Run …), and
# applies a decision to an incident by its id (bot.store.incident_changes). The table rows a flows
# module may still name, only to hand them on unchanged, and why:
HANDED_ON: dict[str, frozenset[str]] = {
    # The runner claims outbox rows (one UPDATE … RETURNING, leased to it), hands each to its
    # effect's handler (which reads it as read_models.QueuedEffect; opening the channel notes on
    # it the name it tries) and records the result against the lease it holds.
    "bot.flows.outbox": frozenset({"bot.store.models.OutboxRow"}),
    # The effects a transaction inserted already leased to the delivering thread, handed to the
    # runner right after the commit (store.outbox.born_claimed).
    "bot.flows.unit": frozenset({"bot.store.models.OutboxRow"}),
    # Alert ingestion hands the effects a delivery inserted born leased to the runner.
    "bot.flows.alerts": frozenset({"bot.store.models.OutboxRow"}),
}


def flows_modules() -> list[str]:
    return sorted(name for name in modules() if layer(name) == "flows")


def orm_imports_beyond(source: str, package: str, handed_on: frozenset[str]) -> list[str]:
    """The module's ORM imports other than the rows it may hand on (`from bot.store.models
    import X` also names the module itself, which says nothing more)."""
    found = set(orm_imports(source, package))
    if found & handed_on:
        found.discard("bot.store.models")
    return sorted(found - handed_on)


# What only the store does with the unit of work's session (or a connection of its own).
SESSION_WORK = {"add", "add_all", "delete", "exec", "execute", "flush", "get", "merge", "refresh"}
SESSION_WORK |= {"scalar", "scalars", "connection"}


def session_work(source: str) -> list[str]:
    """`session.exec(…)`, `connection.execute(…)` …: the module working the session itself."""
    return sorted(
        f"{node.func.value.id}.{node.func.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("session", "connection")
        and node.func.attr in SESSION_WORK
    )


@pytest.mark.parametrize("name", flows_modules())
def test_the_flows_leave_the_sql_to_the_store(name: str) -> None:
    path = modules()[name]
    source = path.read_text(encoding="utf-8")
    handed_on = HANDED_ON.get(name, frozenset())
    assert orm_imports_beyond(source, package_of(name, path), handed_on) == []
    assert session_work(source) == []


@pytest.mark.parametrize("name", sorted(HANDED_ON))
def test_each_row_a_flow_may_hand_on_it_still_does(name: str) -> None:
    """An exception nobody needs any more goes (and one for a module that is gone)."""
    path = modules()[name]
    imported = set(orm_imports(path.read_text(encoding="utf-8"), package_of(name, path)))
    assert HANDED_ON[name] <= imported


def test_the_contract_sees_a_flow_work_the_session() -> None:
    source = "def f(session, connection, incident):\n    session.add(incident)\n"
    source += "    connection.execute(x)\n    q.roles(session=session, incident_id=1)\n"
    assert session_work(source) == ["connection.execute", "session.add"]


def test_the_contract_lets_a_flow_hand_on_only_the_rows_it_names() -> None:
    handed_on = frozenset({"bot.store.models.Incident"})
    source = "from bot.store.models import Incident"
    assert orm_imports_beyond(source, "bot.flows", handed_on) == []
    source = "from bot.store.models import Incident, PageRow"
    assert orm_imports_beyond(source, "bot.flows", handed_on) == ["bot.store.models.PageRow"]
    source = "from sqlmodel import select\nfrom bot.store.models import Incident"
    assert orm_imports_beyond(source, "bot.flows", handed_on) == ["sqlmodel", "sqlmodel.select"]
    assert orm_imports_beyond("from bot.store import pages", "bot.flows", frozenset()) == []


# Chat markup in the domain's own sentences: a mention, a special mention (`<!channel>`, dates), a
# conversation link or a URL link in Slack's syntax. The core and the flows say people as
# references (`bot.core.people.person`) and leave escaping to the surface that shows the text.
CHAT_MARKUP = re.compile(r"<[@!#]|<https?:|escape_mrkdwn")


def chat_markup_in(source: str) -> list[str]:
    """The string literals (f-string parts included) and names in `source` that carry chat markup."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.Name | ast.alias):
            text = node.id if isinstance(node, ast.Name) else node.name
        else:
            continue
        if CHAT_MARKUP.search(text):
            found.append(text)
    return found


@pytest.mark.parametrize(
    "name",
    sorted(n for n in modules() if n.startswith(("bot.core", "bot.flows"))),
)
def test_the_domain_builds_no_chat_markup(name: str) -> None:
    assert chat_markup_in(modules()[name].read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        'who = f"<@{user}>"',
        'x = "ping <!channel>"',
        'where = f"in <#{channel}>"',
        'link = f"<https://example.com|here>"',
        "from bot.markup import escape_mrkdwn",
    ],
)
def test_the_contract_sees_chat_markup(source: str) -> None:
    assert chat_markup_in(source) != []


# A surface's own words in the core's sentences: an emoji code (`:pushpin:`, a Slack reaction's
# name) or bold the Slack way (`*Private*`, a control's label). The core says what to do; each
# surface's help adds how it is done there (`adapters/slack/replies.HINTS`). Markdown's `**bold**`
# (the neutral text the tracker gets), times (`10:00:00`), patterns and products (`a * b`) pass.
# Only the core: the flows build keys such as f"{kind}:event:{id}", which read as an emoji code.
SURFACE_WORDS = re.compile(r":[a-z_]+:|(?<![\w*])\*[A-Za-z][\w ,'-]*(?<=\w)\*(?![\w*])")


def surface_words_in(source: str) -> list[str]:
    """The emoji codes and Slack-bold words in the string literals of `source`."""
    return [
        found.group()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for found in SURFACE_WORDS.finditer(node.value)
    ]


@pytest.mark.parametrize("name", sorted(n for n in modules() if n.startswith("bot.core")))
def test_the_core_says_no_surfaces_emoji_codes_or_bold(name: str) -> None:
    assert surface_words_in(modules()[name].read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        'summary = "Add a note (or react with :pushpin: to a message)"',
        'refused = "Declare a new one (tick *Private*) instead."',
        'summary = f"Record it (or *Add follow-up* on {where})"',
    ],
)
def test_the_contract_sees_a_surfaces_words(source: str) -> None:
    assert surface_words_in(source) != []


@pytest.mark.parametrize(
    "source",
    [
        'example = "2026-11-26T10:00:00Z"',
        r'MATCHER = r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$"',
        'heading = "**Impact** and a * b * c"',
    ],
)
def test_the_contract_lets_the_core_write_times_patterns_and_markdown(source: str) -> None:
    assert surface_words_in(source) == []
