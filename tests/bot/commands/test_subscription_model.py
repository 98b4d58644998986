"""The subscription model on its own: everything as a state, and its round trips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.commands.subscription_model import Outcome, Plan, universe, universe_ordered
from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscription

TAXONOMY = Taxonomy.default()
PAPERS = Subscription("section", "papers")
CHIPS = Subscription("topic", "chips")
EVERYTHING = Plan(True)
ITEMS = universe_ordered(TAXONOMY)


def test_everything_includes_every_item_but_stores_one_row() -> None:
    assert all(EVERYTHING.includes(i) for i in ITEMS)
    assert EVERYTHING.includes(ALL)
    assert EVERYTHING.rows() == [ALL]


def test_adding_to_everything_is_already_included() -> None:
    assert EVERYTHING.add(CHIPS, TAXONOMY) == (EVERYTHING, Outcome.INCLUDED)
    assert EVERYTHING.add(ALL, TAXONOMY) == (EVERYTHING, Outcome.ALREADY)


def test_removing_from_everything_leaves_the_explicit_rest() -> None:
    plan, outcome = EVERYTHING.remove(CHIPS, TAXONOMY)
    assert outcome is Outcome.REMOVED and not plan.everything
    assert plan.items == universe(TAXONOMY) - {CHIPS}
    assert plan.add(CHIPS, TAXONOMY) == (EVERYTHING, Outcome.ADDED)


def test_removing_all_removes_topics_too() -> None:
    plan = Plan.of([PAPERS, CHIPS], TAXONOMY)
    assert plan.remove(ALL, TAXONOMY) == (Plan.nothing(), Outcome.REMOVED)
    assert Plan.nothing().remove(ALL, TAXONOMY) == (Plan.nothing(), Outcome.ABSENT)


def test_every_section_alone_is_not_everything() -> None:
    sections = [i for i in ITEMS if i.kind == "section"]
    plan = Plan.of(sections, TAXONOMY)
    assert not plan.everything and not plan.includes(CHIPS)


def test_legacy_rows_and_unknown_keys() -> None:
    assert Plan.of([ALL, CHIPS], TAXONOMY) == EVERYTHING
    stale = Subscription("section", "gone")
    plan = Plan.of([stale, CHIPS, PAPERS], TAXONOMY)
    assert plan.ordered(TAXONOMY) == [PAPERS, CHIPS, stale]


@given(st.lists(st.sampled_from([*ITEMS, ALL]), max_size=30))
def test_toggling_twice_restores_the_plan(presses: list[Subscription]) -> None:
    plan = Plan.nothing()
    for item in presses:
        before = plan
        plan = plan.toggle(item, TAXONOMY)
        if item != ALL:
            assert plan.includes(item) != before.includes(item)
            assert plan.toggle(item, TAXONOMY) == before
        assert Plan.of(plan.rows(), TAXONOMY) == plan  # storage round trip
        assert plan.everything == (plan.expanded(TAXONOMY) == universe(TAXONOMY))


def test_what_still_arrives_after_an_item_goes() -> None:
    assert Plan.of([PAPERS], TAXONOMY).still_delivers(CHIPS)  # chips entries in papers
    assert Plan.of([CHIPS], TAXONOMY).still_delivers(PAPERS)  # papers entries on chips
    assert not Plan.of([PAPERS], TAXONOMY).still_delivers(Subscription("section", "news"))
    assert not Plan.nothing().still_delivers(CHIPS)
