"""One-line fields (titles, sources, headings) lose their markup, keep their text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formatters.plain import plain_inline
from formatters.text import one_line


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("Design for **NVIDIA** GPU", "Design for NVIDIA GPU"),
        ("__端侧__ *推理* _引擎_ ~~旧版~~ ***双重***", "端侧 推理 引擎 旧版 双重"),
        ("`TensorRT 8` 与 ``a`b``", "TensorRT 8 与 a`b"),
        ("`a*b*c` 不是强调", "a*b*c 不是强调"),
        ('<font color="red">红色</font>标题<br/>第二行', "红色标题 第二行"),
        ("<b>粗</b><span class=x>体</span>", "粗体"),
        ("[链接文字](https://x.org/a_(b)) 与 ![图](https://i.org/p.png)", "链接文字 与 图"),
        ("**[加粗链接](https://x.org)**", "加粗链接"),
        ("\\*不是强调\\* \\_也不是\\_ \\`x\\`", "*不是强调* _也不是_ `x`"),
    ],
)
def test_markup_is_reduced_to_its_text(source: str, shown: str) -> None:
    assert plain_inline(source) == shown


@pytest.mark.parametrize(
    "source",
    [
        "YuvalNirkin/face_swap: End-to-end face swapping",
        "TengineKit_Demo_Big_Eyes：开源212点人脸关键点SDK",
        "[SysML 2019] To Compress or Not to Compress",
        "苹果 <M1> & “芯片” Vector<int>",
        "比手工模型快10~100倍",
        "a * b = c, 5 * 3",
        "未配对的 **强调 与 `反引号",
        "C:\\Users\\demo 与 50%",
    ],
)
def test_text_that_only_looks_like_markup_is_kept(source: str) -> None:
    assert plain_inline(source) == source


def test_whitespace_collapses_to_one_line() -> None:
    assert plain_inline("  **多行**\n标题\t x  ") == "多行 标题 x"
    assert plain_inline("") == ""


PLAIN = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*_~`[]<>\\!"))
ANY = st.text(st.one_of(st.sampled_from(list("*_~`[]()<>\\! ab")), st.characters()))


@given(PLAIN)
def test_text_without_markup_characters_is_only_collapsed(text: str) -> None:
    assert plain_inline(text) == one_line(text)


@given(ANY)
def test_any_text_gives_one_line_without_private_markers(text: str) -> None:
    shown = plain_inline(text)
    assert shown == one_line(shown)
    assert not set(shown) - set(text) - {" "}  # nothing invented, no sentinel leaks
