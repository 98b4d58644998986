"""Counts read right in both languages: "1 entry", "3 entries", "共 1 条"."""

from __future__ import annotations

from formatters import EN, ZH


def test_english_counts_are_singular_for_one() -> None:
    assert EN.entries(1) == "1 entry" and EN.entries(3) == "3 entries"
    assert EN.entries(0) == "0 entries"
    assert EN.total_entries(1) == "1 entry in total"
    assert EN.total_entries(11) == "11 entries in total"
    assert EN.result_count(1) == "1 result" and EN.result_count(2) == "2 results"


def test_chinese_counts_do_not_change_with_the_number() -> None:
    assert ZH.entries(1) == "1 条" and ZH.entries(3) == "3 条"
    assert ZH.total_entries(1) == "共 1 条" and ZH.result_count(5) == "共 5 条结果"
