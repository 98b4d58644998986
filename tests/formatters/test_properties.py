"""Hostile content on every platform: limits, validity, nothing lost, few messages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefings.model import Issue

from .helpers import check_view, renderers
from .strategies import issues, search_pages, text

RENDERERS = renderers()
FAST = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("name", RENDERERS)
@FAST
@given(issue=issues)
def test_whole_issue(name: str, issue: Issue) -> None:
    check_view(RENDERERS[name], lambda r: r.issue(issue))


@pytest.mark.parametrize("name", RENDERERS)
@FAST
@given(issue=issues, data=st.data())
def test_other_issue_views(name: str, issue: Issue, data: st.DataObject) -> None:
    renderer = RENDERERS[name]
    keys = [s.key for s in issue.sections]
    chosen = data.draw(st.lists(st.sampled_from(keys), max_size=2)) if keys else []
    topics = data.draw(st.lists(st.sampled_from(["quant", "npu", "<t&>"]), max_size=2))
    check_view(renderer, lambda r: r.sections(issue, chosen))
    check_view(renderer, lambda r: r.for_subscriber(issue, sections=chosen, topics=topics))
    check_view(renderer, lambda r: r.digest(issue))
    check_view(renderer, lambda r: r.overview(issue))
    for section in issue.sections:
        for entry in section.entries[:2]:
            check_view(renderer, lambda r, s=section, e=entry: r.entry(issue, s, e))


@pytest.mark.parametrize("name", RENDERERS)
@FAST
@given(page=search_pages)
def test_search_results(name: str, page) -> None:
    check_view(RENDERERS[name], lambda r: r.search_results(page))


@pytest.mark.parametrize("name", RENDERERS)
@FAST
@given(body=st.one_of(text, st.just('help <me> & "you"\n\n' * 500)))
def test_service_text(name: str, body: str) -> None:
    check_view(RENDERERS[name], lambda r: r.service(body))
