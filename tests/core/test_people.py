"""People in the domain's sentences are neutral references; each surface renders its own."""

from __future__ import annotations

from bot.core.people import people_in, person, render_people, typed


def test_a_reference_renders_as_the_surface_wants_it() -> None:
    text = f"{person('U0ALICE')} is already the Commander; ask {person('U0BOB')}."
    assert render_people(text, lambda user: f"<@{user}>") == (
        "<@U0ALICE> is already the Commander; ask <@U0BOB>."
    )
    assert (
        render_people(text, lambda user: f"@{user}")
        == "@U0ALICE is already the Commander; ask @U0BOB."
    )
    assert people_in(text) == ["U0ALICE", "U0BOB"]


def test_text_without_references_is_left_as_it_is() -> None:
    text = "Unknown role '{person:}'; use one of `commander`, `<@U1>`."
    assert render_people(text, lambda user: "X") == text
    assert people_in(text) == []


def test_a_reference_someone_typed_stays_text() -> None:
    title = "Checkout down {person:U0BOSS}"
    text = f"Declared SEV2: {typed(title)} by {person('U0ALICE')}"
    assert people_in(text) == ["U0ALICE"]
    rendered = render_people(text, lambda user: f"<@{user}>")
    assert "<@U0BOSS>" not in rendered and rendered.endswith("by <@U0ALICE>")
    assert (
        rendered.replace("\u2060", "")
        == "Declared SEV2: Checkout down {person:U0BOSS} by <@U0ALICE>"
    )
