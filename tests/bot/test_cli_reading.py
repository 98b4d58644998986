"""`briefbot render` and `briefbot search` end to end, in-process, on the sample briefings."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.cli.base import parse_moment
from bot.commands.bounds import MAX_PAGE
from bot.commands.search import PER_PAGE
from formatters import (
    CONSOLE_LIMITS,
    TELEGRAM_LIMITS,
    WECHAT_LIMITS,
    WECOM_APP_LIMITS,
    WECOM_ROBOT_LIMITS,
    Limits,
    telegram,
    wechat,
    wecom,
)
from formatters.text import one_line
from storage.search.words import document_words
from tests.bot.conftest import Cli
from tests.conftest import SAMPLES_DIR

LIMITS: dict[str, Limits] = {
    "telegram": TELEGRAM_LIMITS,
    "wechat": WECHAT_LIMITS,
    "wecom": WECOM_APP_LIMITS,
    "wecom-robot": WECOM_ROBOT_LIMITS,
    "console": CONSOLE_LIMITS,
}
# How each platform writes a title's text (markup characters are escaped or replaced).
ESCAPES: dict[str, Callable[[str], str]] = {
    "telegram": telegram.escape,
    "wechat": wechat.escape,
    "wecom": wecom.escape,
    "wecom-robot": wecom.escape,
    "console": lambda text: text,
}
PLATFORMS = list(LIMITS)
SAMPLE_KEYS = sorted(p.stem for p in SAMPLES_DIR.glob("*.md"))


@pytest.fixture
def cli(cli: Cli) -> Cli:
    """The shared in-process CLI, on an archive holding the samples."""
    code, out, err = cli("ingest", str(SAMPLES_DIR))
    assert code == 0, err
    assert f"{len(SAMPLE_KEYS)} added" in out
    return cli


def measured(text: str, unit: str) -> int:
    if unit == "utf16":  # Telegram limits the text left once the HTML entities are parsed
        visible = html.unescape(re.sub(r"<[^>]*>", "", text))
        return len(visible.encode("utf-16-le")) // 2
    if unit == "bytes":
        return len(text.encode("utf-8"))
    return len(text)


def rendered(cli: Cli, *args: str) -> list[dict[str, Any]]:
    code, out, err = cli("render", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def titles_by_section(cli: Cli, key: str) -> dict[str, list[str]]:
    code, out, _ = cli("show", key, "--json")
    assert code == 0
    sections = json.loads(out)["sections"]
    return {s["key"]: [e["title"] for e in s["entries"]] for s in sections}


def entries(cli: Cli, key: str) -> list[dict[str, Any]]:
    code, out, _ = cli("show", key, "--json")
    assert code == 0
    return [e for s in json.loads(out)["sections"] for e in s["entries"]]


def searched(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli("search", *args, "--json")
    assert code == 0, err
    return json.loads(out)


# --- render ---------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_render_json_messages_fit_the_platform_limit(cli: Cli, platform: str) -> None:
    limits = LIMITS[platform]
    for key in SAMPLE_KEYS:
        for extra in ((), ("--digest",)):
            messages = rendered(cli, key, "--platform", platform, *extra)
            assert messages, f"{platform} {key} {extra}: no messages"
            for m in messages:
                assert set(m) == {"text", "format", "size", "unit"}
                assert m["unit"] == limits.unit
                assert m["size"] == measured(m["text"], m["unit"])
                assert limits.max_size is None or m["size"] <= limits.max_size


def test_byte_limited_platforms_split_and_the_robot_takes_bigger_messages(cli: Cli) -> None:
    key = SAMPLE_KEYS[0]
    assert len(rendered(cli, key, "--platform", "wechat")) > 1
    app = rendered(cli, key, "--platform", "wecom")
    robot = rendered(cli, key, "--platform", "wecom-robot")
    assert len(robot) < len(app)
    assert max(m["size"] for m in robot) > (WECOM_APP_LIMITS.max_size or 0)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name", ["papers", "论文"])
def test_sections_papers_renders_paper_titles_only(cli: Cli, platform: str, name: str) -> None:
    escape = ESCAPES[platform]
    for key in SAMPLE_KEYS:
        by_section = titles_by_section(cli, key)
        text = "\n".join(
            m["text"] for m in rendered(cli, key, "--platform", platform, "--sections", name)
        )
        assert by_section["papers"]
        for title in by_section["papers"]:
            assert escape(one_line(title)) in text
        others = [t for k, ts in by_section.items() if k != "papers" for t in ts]
        assert others
        for title in others:
            assert escape(one_line(title)) not in text


def test_topics_by_chinese_name_select_tagged_entries(cli: Cli) -> None:
    for key in SAMPLE_KEYS:
        by_key = rendered(cli, key, "--platform", "console", "--topics", "quantization")
        assert by_key == rendered(cli, key, "--platform", "console", "--topics", "量化")
        text = "\n".join(m["text"] for m in by_key)
        tagged = [e for e in entries(cli, key) if "quantization" in e["topics"]]
        untagged = [e for e in entries(cli, key) if "quantization" not in e["topics"]]
        assert tagged and untagged
        assert all(one_line(e["title"]) in text for e in tagged)
        assert not any(one_line(e["title"]) in text for e in untagged)


def test_sections_and_topics_together_are_a_union(cli: Cli) -> None:
    key = SAMPLE_KEYS[0]
    both = rendered(cli, key, "--platform", "console", "--sections", "news", "--topics", "chips")
    text = "\n".join(m["text"] for m in both)
    for e in entries(cli, key):
        news = e["title"] in titles_by_section(cli, key)["news"]
        assert (one_line(e["title"]) in text) == (news or "chips" in e["topics"])


@pytest.mark.parametrize("platform", ["telegram", "wechat", "wecom", "console"])
def test_digest_is_shorter_than_full_and_keeps_every_title(cli: Cli, platform: str) -> None:
    for key in SAMPLE_KEYS:
        full = rendered(cli, key, "--platform", platform)
        digest = rendered(cli, key, "--platform", platform, "--digest")
        assert len(digest) <= len(full)
        assert sum(m["size"] for m in digest) < sum(m["size"] for m in full)
        text = "\n".join(m["text"] for m in digest)
        for e in entries(cli, key):
            assert ESCAPES[platform](one_line(e["title"])) in text
        summary = one_line(entries(cli, key)[0]["summary"])[:12]
        assert summary and summary not in text
        assert summary in "\n".join(m["text"] for m in full)


def test_digest_with_sections_keeps_only_those_titles(cli: Cli) -> None:
    key = SAMPLE_KEYS[0]
    by_section = titles_by_section(cli, key)
    out = rendered(cli, key, "--platform", "console", "--digest", "--sections", "projects")
    text = "\n".join(m["text"] for m in out)
    assert all(one_line(t) in text for t in by_section["projects"])
    assert not any(one_line(t) in text for t in by_section["news"] + by_section["papers"])


def test_render_text_output_has_numbered_separators_with_limits(cli: Cli) -> None:
    code, out, _ = cli("render", SAMPLE_KEYS[0], "--platform", "wechat")
    count = len(rendered(cli, SAMPLE_KEYS[0], "--platform", "wechat"))
    assert code == 0 and count > 1
    for n in range(1, count + 1):
        assert f"message {n}/{count} · " in out
    assert out.count(f"/{WECHAT_LIMITS.max_size} bytes") == count
    code, out, _ = cli("render", "latest", "--platform", "console")
    assert code == 0 and SAMPLE_KEYS[-1] in out and "(no limit) chars" in out


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--sections", "papers,nonsense", "nonsense"),
        ("--sections", "chips", "chips"),  # a topic is not a section
        ("--topics", "论文", "论文"),  # nor a section a topic
    ],
)
def test_unknown_names_exit_2_naming_the_valid_ones(
    cli: Cli, option: str, value: str, needle: str
) -> None:
    code, out, err = cli("render", "latest", "--platform", "telegram", option, value)
    assert code == 2 and not out
    assert needle in err
    valid = "papers" if option == "--sections" else "quantization"
    assert valid in err and "Traceback" not in err


def test_unknown_issue_and_bad_platform(cli: Cli) -> None:
    code, out, err = cli("render", "2001-01-01", "--platform", "console")
    assert (code, out) == (1, "")
    assert "no issue 2001-01-01 in the archive" in err
    with pytest.raises(SystemExit) as exc:
        cli("render", "latest", "--platform", "sms")
    assert exc.value.code == 2


# --- search ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["量化", "MNN", "tengine"])
def test_search_finds_every_entry_titled_with_the_word_first(cli: Cli, word: str) -> None:
    page = searched(cli, word, "--limit", "50")
    titles = [h["title"] for h in page["hits"]]
    # A Chinese word counts where it stands as a word: 量化 inside 向量化 ranks below
    # entries about 量化 (storage/search/words.py), so it is not a title match here.
    in_title = [_titled_with(word, t) for t in titles]
    assert in_title and in_title[0], titles
    assert in_title == sorted(in_title, reverse=True), ("title matches rank first", titles)
    expected = {e["title"] for k in SAMPLE_KEYS for e in entries(cli, k)}
    expected = {t for t in expected if word.casefold() in t.casefold()}
    assert expected and expected <= set(titles)
    for hit in page["hits"]:
        assert "\x02" not in hit["snippet"] and "\x03" not in hit["snippet"]
        assert all(h.casefold() == word.casefold() for h in hit["highlights"])
        assert hit["issue_key"] in SAMPLE_KEYS


def _titled_with(word: str, title: str) -> bool:
    if word.isascii():
        return word.casefold() in title.casefold()
    return word in document_words(title)


def test_search_text_output_shows_date_section_link_and_marks(cli: Cli) -> None:
    code, out, err = cli("search", "量化")
    assert code == 0, err
    first = searched(cli, "量化")["hits"][0]
    assert first["title"] in out and first["issue_key"] in out
    assert first["section_heading"] in out
    assert first["url"] is None or first["url"] in out
    assert "[量化]" in out and "\x02" not in out


def test_search_pages_walk_the_same_ranking(cli: Cli) -> None:
    everything = searched(cli, "量化", "--limit", "50")
    assert len(everything["hits"]) > 2
    walked = []
    for number in range(1, len(everything["hits"]) + 1):
        page = searched(cli, "量化", "--limit", "1", "--page", str(number))
        assert page["page"] == number and len(page["hits"]) == 1
        last = number == len(everything["hits"])
        assert page["next_page"] == (None if last else number + 1)
        walked += page["hits"]
    assert walked == everything["hits"]
    assert walked[0] != walked[1]


def test_search_default_limit_is_the_bots_page_size(cli: Cli) -> None:
    page = searched(cli, "量化")
    assert page["page_size"] == PER_PAGE and len(page["hits"]) == PER_PAGE


def test_search_without_results_says_so(cli: Cli) -> None:
    code, out, err = cli("search", "zzyzx")
    assert code == 0 and not err
    assert "没有找到" in out and "zzyzx" in out
    assert searched(cli, "zzyzx")["hits"] == []
    code, out, _ = cli("search", "量化", "--page", "99")
    assert code == 0 and "没有更多结果" in out


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        ([""], "briefbot search 量化"),  # the usage, as the bot answers a bare /search
        (["   "], "briefbot search 量化"),
        (["?!…"], "无法搜索"),
        (['"'], "无法搜索"),
        (["section:"], "section:papers"),
    ],
)
def test_hostile_queries_fail_clearly(cli: Cli, words: list[str], needle: str) -> None:
    for extra in ((), ("--json",)):
        code, out, err = cli("search", *words, *extra)
        assert (code, out) == (1, "")
        assert needle in err and "Traceback" not in err


def test_search_messages_follow_lang(cli: Cli) -> None:
    code, _, err = cli("search", "!!!", "--lang", "en")
    assert code == 1 and "Cannot search" in err
    code, out, _ = cli("search", "zzyzx", "--lang", "en")
    assert code == 0 and "Nothing found" in out


@pytest.mark.parametrize("query", ["NEAR(量化 MNN) OR *", 'MNN" AND', "title:MNN^2 -x", "量化*"])
def test_fts_syntax_is_searched_as_text(cli: Cli, query: str) -> None:
    code, out, err = cli("search", query, "--json")
    assert code == 0, err
    assert isinstance(json.loads(out)["hits"], list)


@pytest.mark.parametrize(
    "args",
    [
        ["--limit", "0"],
        ["--limit", "51"],
        ["--page", "0"],
        ["--page", "x"],
        ["--page", "-1"],
        ["--page", "²"],
        ["--page", "1_0"],
        ["--page", str(2**63)],  # the offset would not fit a database integer
        ["--page", "9" * 5000],  # int() refuses more than 4300 digits
        ["--limit", "9" * 100_000],
    ],
)
def test_bad_limit_or_page_is_an_argparse_error(cli: Cli, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("search", "量化", *args)
    assert exc.value.code == 2


@pytest.mark.parametrize("value", [str(2**63), "9" * 5000, "9" * 100_000])
def test_an_absurd_page_is_one_clipped_line(
    cli: Cli, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli("search", "量化", "--page", value)
    err = capsys.readouterr().err
    assert "--page: expected 1..10000" in err
    assert "Traceback" not in err and len(err) < 1_000


def test_the_last_allowed_page_is_searched(cli: Cli) -> None:
    code, out, err = cli("search", "量化", "--page", str(MAX_PAGE))
    assert code == 0 and "没有更多结果" in out, err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("9999-12-31T23:59:59", "out of range"),  # overflows once days are added to it
        ("9999-12-31T23:59:59-14:00", "out of range"),
        ("0001-01-01T00:00", "out of range"),  # Asia/Shanghai: before year 1 in UTC
        ("1969-12-31T23:59:59+00:00", "out of range"),
        ("99999-01-01", "expected an ISO time"),
        ("2026-11-16T08:59:60", "expected an ISO time"),
        ("2026-11-16T08:59+24:00", "expected an ISO time"),
        ("9" * 100_000, "expected an ISO time"),
    ],
)
def test_times_out_of_range_are_one_clear_error(text: str, needle: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_moment(text, "Asia/Shanghai")
    message = str(caught.value)
    assert needle in message and len(message) < 200 and "\n" not in message


def test_times_in_range_keep_their_offset() -> None:
    moment = parse_moment("2026-11-16T08:59", "Asia/Shanghai")
    assert moment.isoformat() == "2026-11-16T08:59:00+08:00"
    assert parse_moment("8999-12-31T00:00Z", "UTC").year == 8999


@pytest.mark.parametrize("value", ["9999-12-31T23:59", "0001-01-01T00:00", "x" * 100_000])
def test_tick_now_out_of_range_exits_2_with_one_line(cli: Cli, value: str) -> None:
    code, out, err = cli("tick", "--now", value)
    assert code == 2 and out == ""
    (line,) = [line for line in err.splitlines() if "--now" in line]  # after the start banner
    assert line.startswith("briefbot: --now: ") and len(line) < 200
    assert "Traceback" not in err and len(err) < 1_000


@pytest.mark.parametrize("key", ["0001-01-01", "9999-12-31"])
def test_extreme_issue_keys_are_simply_missing(cli: Cli, key: str) -> None:
    code, _, err = cli("render", key, "--platform", "console")
    assert code == 1 and f"no issue {key}" in err and "Traceback" not in err


def test_a_huge_issue_key_is_clipped_in_the_error(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli("render", "2" * 100_000, "--platform", "console")
    err = capsys.readouterr().err
    assert "expected YYYY-MM-DD" in err and len(err) < 1_000
