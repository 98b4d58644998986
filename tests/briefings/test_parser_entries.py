"""Entry-level rules: item line, title/source split, links, arXiv ids, summary."""

from __future__ import annotations

import pytest

from briefings.model import Link
from tests.briefings._helpers import doc, entries, one_entry, parse


def test_link_item_splits_title_and_source() -> None:
    entry = one_entry("- [华为P30 Pro发布，50倍变焦 | 量子位](https://mp.weixin.qq.com/s/xFec5g)  ")
    assert (entry.title, entry.source) == ("华为P30 Pro发布，50倍变焦", "量子位")
    assert entry.url == "https://mp.weixin.qq.com/s/xFec5g"


def test_title_is_split_on_the_last_pipe() -> None:
    entry = one_entry(
        "- [KDD 2019 | 自动探索特征组合，第四范式提出AutoCross | 机器之心](https://a.example)"
    )
    assert entry.title == "KDD 2019 | 自动探索特征组合，第四范式提出AutoCross"
    assert entry.source == "机器之心"


def test_full_width_and_unspaced_pipes_split_too() -> None:
    found = entries(
        doc(
            "## 博文",
            "- [闲话模型压缩之网络剪枝（Network Pruning）｜ 极市平台](https://a.example)",
            "- [CPU并行编程概述（上）| InfoQ](https://b.example)",
            "- [Tensorflow Lite人体姿势跟踪 |机器之心](https://c.example)",
        )
    )
    assert [(e.title, e.source) for e in found] == [
        ("闲话模型压缩之网络剪枝（Network Pruning）", "极市平台"),
        ("CPU并行编程概述（上）", "InfoQ"),
        ("Tensorflow Lite人体姿势跟踪", "机器之心"),
    ]


def test_cjk_gun_character_splits_only_before_a_short_publisher() -> None:
    found = entries(
        doc(
            "## 博文",
            "- [小米CC9背后的计算机视觉算法丨 InfoQ](https://a.example)",
            "- [重磅丨依图造芯，定名“求索”](https://b.example)",
            "- [重磅丨依图造芯，定名“求索” | 雷锋网](https://c.example)",
        )
    )
    assert [(e.title, e.source) for e in found] == [
        ("小米CC9背后的计算机视觉算法", "InfoQ"),
        ("重磅丨依图造芯，定名“求索”", None),
        ("重磅丨依图造芯，定名“求索”", "雷锋网"),
    ]


def test_bare_item_without_link_is_kept() -> None:
    entry = one_entry("- Polyhedral Model—AI芯片软硬件优化利器 | 要术甲杰 StarryHeavensAbove    ")
    assert entry.title == "Polyhedral Model—AI芯片软硬件优化利器"
    assert entry.source == "要术甲杰 StarryHeavensAbove"
    assert entry.url is None


def test_repo_item_without_pipe_keeps_whole_text_as_title() -> None:
    entry = one_entry(
        "- [Oldpan/Pytorch-Memory-Utils: pytorch memory track code](https://github.com/Oldpan/Pytorch-Memory-Utils)"
    )
    assert entry.title == "Oldpan/Pytorch-Memory-Utils: pytorch memory track code"
    assert entry.source is None


def test_leading_arxiv_tag_becomes_the_arxiv_id() -> None:
    entry = one_entry(
        "- [2011.12289v1] [MicroNet: 计算量低到极致的图像识别模型](https://mp.weixin.qq.com/s/x)"
    )
    assert entry.arxiv_id == "2011.12289v1"
    assert entry.title == "MicroNet: 计算量低到极致的图像识别模型"


def test_other_leading_tags_stay_in_front_of_the_title() -> None:
    found = entries(
        doc(
            "## 论文",
            "- [SysML 2019] [To Compress or Not to Compress](https://www.sysml.cc/doc/2019/127.pdf)",
            "- [AAAI 2020][基于长短期老师的样本蒸馏方法 | 蚂蚁金服](https://a.example)",
        )
    )
    assert [(e.title, e.source, e.arxiv_id) for e in found] == [
        ("[SysML 2019] To Compress or Not to Compress", None, None),
        ("[AAAI 2020] 基于长短期老师的样本蒸馏方法", "蚂蚁金服", None),
    ]


def test_arxiv_id_from_main_url_or_single_arxiv_link() -> None:
    found = entries(
        doc(
            "## 论文",
            "- [PROXYLESSNAS](https://arxiv.org/pdf/1812.00332.pdf)",
            "- [解读 | 机器之心](https://a.example)",
            "链接：https://arxiv.org/abs/2009.00278v2  ",
            "- [两篇 | 机器之心](https://b.example)",
            "1. EvaNet：https://arxiv.org/abs/1811.10636  ",
            "2. AssembleNet：https://arxiv.org/abs/1905.13209  ",
        )
    )
    assert [e.arxiv_id for e in found] == ["1812.00332", "2009.00278v2", None]


def test_trailing_links_after_the_main_link_are_extra_links() -> None:
    entry = one_entry(
        "- [1812.00332] [PROXYLESSNAS](https://arxiv.org/pdf/1812.00332.pdf) "
        "[[报道原文]](http://news.mit.edu/2019/x) [机器之心解读](https://mp.weixin.qq.com/s/y)  "
    )
    assert entry.links == (
        Link("报道原文", "http://news.mit.edu/2019/x"),
        Link("机器之心解读", "https://mp.weixin.qq.com/s/y"),
    )
    assert entry.url == "https://arxiv.org/pdf/1812.00332.pdf"


def test_labelled_url_lines_become_links_and_leave_the_summary() -> None:
    entry = one_entry(
        "- [2010.10499] [Bort：BERT轻量化 | 量子位](https://mp.weixin.qq.com/s/R)  ",
        "标题：[Optimal Subarchitecture Extraction For BERT](https://arxiv.org/abs/2010.10499)  ",
        "代码：https://github.com/alexa/bort  ",
        "论文：https://arxiv.org/abs/2010.10499",
        "网站：https://bort.example  ",
        "项目: https://github.com/alexa  ",
        "摘要：亚马逊Alexa团队对BERT模型进行参数选择。  ",
    )
    assert entry.links == (
        Link("代码", "https://github.com/alexa/bort"),
        Link("论文", "https://arxiv.org/abs/2010.10499"),
        Link("网站", "https://bort.example"),
        Link("项目", "https://github.com/alexa"),
    )
    assert entry.summary == (
        "标题：[Optimal Subarchitecture Extraction For BERT](https://arxiv.org/abs/2010.10499)\n"
        "摘要：亚马逊Alexa团队对BERT模型进行参数选择。"
    )


def test_prose_ending_in_a_url_stays_in_the_summary() -> None:
    entry = one_entry(
        "- [t | s](https://a.example)",
        "摘要：更多评价见知乎：华为移动端推理框架Bolt怎么样，https://www.zhihu.com/question/1  ",
        "另外，长期计划图见：https://tensorflow.google.cn/lite/guide/roadmap 。  ",
    )
    assert entry.links == ()
    assert entry.summary.endswith("roadmap 。")


def test_indented_link_items_belong_to_the_entry_above_as_links() -> None:
    found = entries(
        doc(
            "## 论文",
            "- [ICLR 2019论文解读：量化神经网络 | 机器之心](https://a.example)  ",
            "    - [UNDERSTANDING STRAIGHT-THROUGH ESTIMATOR](https://openreview.net/pdf?id=S)  ",
            "    摘要：使用直通估计器（STE）的理由。  ",
            "  1. [Polyhedral Model（一）](https://mp.weixin.qq.com/s/Q)    ",
            "  - NCNN版：https://github.com/SyGoing/LFFD-with-ncnn  ",
            "- [下一条 | 机器之心](https://b.example)",
        )
    )
    assert len(found) == 2
    assert found[0].links == (
        Link("UNDERSTANDING STRAIGHT-THROUGH ESTIMATOR", "https://openreview.net/pdf?id=S"),
        Link("Polyhedral Model（一）", "https://mp.weixin.qq.com/s/Q"),
        Link("NCNN版", "https://github.com/SyGoing/LFFD-with-ncnn"),
    )
    assert found[0].summary == "使用直通估计器（STE）的理由。"


def test_summary_keeps_hard_breaks_lists_bold_html_and_images() -> None:
    entry = one_entry(
        "- [MNN发布 | 阿里技术](https://a.example)  ",
        "摘要：主要更新：  ",
        "  1. 支持**INT8**量化；  ",
        "        1. 嵌套子项  ",
        "  2. 新增<font color=red>训练</font>；",
        "    ![arch](https://img.example/a.png)  ",
        "· SiamMask (CVPR 2019)  ",
        "全精度：Bolt支持float32, float16, int8，满足不同场景。",
    )
    assert entry.summary == (
        "主要更新：\n"
        "1. 支持**INT8**量化；\n"
        "      1. 嵌套子项\n"
        "2. 新增<font color=red>训练</font>；\n"
        "![arch](https://img.example/a.png)\n"
        "· SiamMask (CVPR 2019)\n"
        "全精度：Bolt支持float32, float16, int8，满足不同场景。"
    )


def test_entry_without_summary_has_empty_summary() -> None:
    entry = one_entry(
        "- [idealo/cnn-exposed: Interpreting CNN](https://github.com/idealo/cnn-exposed)  "
    )
    assert entry.summary == ""


def test_blank_line_then_indented_or_summary_line_continues_the_entry() -> None:
    found = entries(
        doc(
            "## 博文",
            "- [a | s](https://a.example)",
            "",
            "摘要：空行之后的摘要。",
            "",
            "  第二段，缩进。",
            "- [b | s](https://b.example)",
        )
    )
    assert len(found) == 2
    assert found[0].summary == "空行之后的摘要。\n\n第二段，缩进。"


def test_fenced_code_in_a_summary_is_not_split_into_entries() -> None:
    found = entries(
        doc(
            "## 博文",
            "- [a | s](https://a.example)",
            "  ```",
            "- not an item",
            "# a shell comment",
            "  ```",
            "- [b | s](https://b.example)",
        )
    )
    assert [e.title for e in found] == ["a", "b"]
    assert "```\n- not an item\n# a shell comment\n```" in found[0].summary


def test_unclosed_fence_does_not_swallow_the_next_section() -> None:
    issue = parse(
        doc(
            "## 博文",
            "- [a | s](https://a.example)",
            "```",
            "code",
            "## 论文",
            "- [b](https://b.example)",
        )
    )
    assert [(s.key, len(s.entries)) for s in issue.sections] == [("blogs", 1), ("papers", 1)]


def test_star_and_plus_bullets_are_entries_too() -> None:
    found = entries(doc("## 博文", "* [a | s](https://a.example)", "+ [b | s](https://b.example)"))
    assert [e.title for e in found] == ["a", "b"]


def test_positions_and_lines_count_from_the_file() -> None:
    text = doc("## 博文", "", "- [a](https://a.example)", "摘要：x", "- [b](https://b.example)")
    issue = parse(text)
    first_line = text.splitlines().index("- [a](https://a.example)") + 1
    assert [(e.position, e.line) for e in issue.sections[0].entries] == [
        (0, first_line),
        (1, first_line + 2),
    ]


def test_mixed_chinese_english_and_full_width_text_pass_through() -> None:
    entry = one_entry(
        "- [再见，Yarn！滴滴机器学习平台架构演进（ＡＩ） | AI前线](https://a.example)  ",
        "摘要：“力度控制”能力——可以将每个箱子码放整齐，速度达到３倍…… ",
    )
    assert entry.title == "再见，Yarn！滴滴机器学习平台架构演进（ＡＩ）"
    assert entry.summary == "“力度控制”能力——可以将每个箱子码放整齐，速度达到３倍……"


def test_link_after_a_prefix_or_inside_emphasis_keeps_its_url() -> None:
    found = entries(
        doc(
            "## 业界新闻",
            "- **[英伟达发布Jetson新模组 | 量子位](https://a.example/1)**  ",
            "- 【重磅】[依图发布求索芯片 | 雷锋网](https://a.example/2)",
            "- 🔥 [端侧大模型综述 | 机器之心](https://a.example/3)",
            "- **【快讯】** [高通发布新平台 | 芯智讯](https://a.example/4) [[原文]](https://b.example)",
            "- __*[MNN 2.0 | 阿里技术](https://a.example/5)*__",
        )
    )
    assert [(e.title, e.source, e.url) for e in found] == [
        ("英伟达发布Jetson新模组", "量子位", "https://a.example/1"),
        ("【重磅】依图发布求索芯片", "雷锋网", "https://a.example/2"),
        ("🔥 端侧大模型综述", "机器之心", "https://a.example/3"),
        ("【快讯】 高通发布新平台", "芯智讯", "https://a.example/4"),
        ("MNN 2.0", "阿里技术", "https://a.example/5"),
    ]
    assert found[3].links == (Link("原文", "https://b.example"),)
    assert all(e.summary == "" for e in found)


def test_the_main_link_is_the_first_web_link_in_the_line() -> None:
    entry = one_entry("- 推荐阅读 ![logo](https://img.example/l.png) [T | S](https://a.example)")
    assert (entry.url, entry.source) == ("https://a.example", "S")
    assert entry.title == "推荐阅读 ![logo](https://img.example/l.png) T"


def test_arxiv_id_from_a_prefix_or_from_inside_the_link_text() -> None:
    found = entries(
        doc(
            "## 论文",
            "- arXiv:2101.00001 [BinaryBERT](https://a.example/1)",
            "- [[2107.04829] Tiny Transformers | 量子位](https://a.example/2)",
            "- [arXiv:2102.00002v2 Edge NAS | 机器之心](https://a.example/3)",
            "- 🔥 [2103.00003] [Sparse Kernels](https://a.example/4)",
        )
    )
    assert [(e.arxiv_id, e.title, e.source) for e in found] == [
        ("2101.00001", "BinaryBERT", None),
        ("2107.04829", "Tiny Transformers", "量子位"),
        ("2102.00002v2", "Edge NAS", "机器之心"),
        ("2103.00003", "🔥 Sparse Kernels", None),
    ]
    assert [e.url for e in found] == [f"https://a.example/{n}" for n in range(1, 5)]


def test_other_tags_inside_the_link_text_stay_in_front_of_the_title() -> None:
    entry = one_entry("- [[CVPR 2020] [2003.00001] GhostNet | 极市平台](https://a.example)")
    assert (entry.title, entry.source, entry.arxiv_id) == (
        "[CVPR 2020] GhostNet",
        "极市平台",
        "2003.00001",
    )


def test_angle_bracket_destinations_and_link_titles() -> None:
    found = entries(
        doc(
            "## 博文",
            "- [a | s](<https://x.example/a b>)",
            '- [b | s](https://x.example/b "标题")',
            '- [c | s](<https://x.example/c d> "标题")',
            "- [d | s](<https://x.example/d>) [代码](<https://g.example/e f>)",
            "- [e | s](https://x.example/e)",
            "代码：<https://g.example/f>",
        )
    )
    assert [e.url for e in found] == [
        "https://x.example/a%20b",
        "https://x.example/b",
        "https://x.example/c%20d",
        "https://x.example/d",
        "https://x.example/e",
    ]
    assert found[3].links == (Link("代码", "https://g.example/e%20f"),)
    assert found[4].links == (Link("代码", "https://g.example/f"),)


PREFIXES = ["", "【重磅】", "🔥 ", "**独家** ", "arXiv:2101.00001 ", "[2107.04829] ", "[CVPR 20] "]
WRAPPERS = [("", ""), ("**", "**"), ("*", "*"), ("__", "__"), ("~~", "~~")]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("opening", "closing"), WRAPPERS)
def test_any_prefix_and_wrapper_keeps_url_title_and_source(
    prefix: str, opening: str, closing: str
) -> None:
    link = "[端侧推理 | 量子位](https://a.example/p?q=1)"
    issue = parse(doc("## 论文", f"- {prefix}{opening}{link}{closing}  "))
    [entry] = issue.sections[0].entries
    assert (entry.url, entry.source, entry.summary) == ("https://a.example/p?q=1", "量子位", "")
    assert entry.title.endswith("端侧推理")
    assert not any(c in entry.title for c in "*_~()"), entry.title
    assert issue.warnings == ()
