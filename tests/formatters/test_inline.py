"""Markdown fields become allow-listed blocks of styled runs."""

from __future__ import annotations

from formatters.blocks import BOLD, CODE, ITALIC, Block, Style
from formatters.inline import InlineMarkdown


def convert(source: str) -> list[Block]:
    return InlineMarkdown("图片").blocks(source)


def styled(block: Block) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.text, tuple(s.kind for s in r.styles)) for r in block.runs]


def test_inline_styles_and_links() -> None:
    [block] = convert("a **b *c*** [d](https://x.org/?q=1&r=2) `e<f>`")
    assert styled(block) == [
        ("a ", ()),
        ("b ", ("bold",)),
        ("c", ("bold", "italic")),
        (" ", ()),
        ("d", ("link",)),
        (" ", ()),
        ("e<f>", ("code",)),
    ]
    assert block.runs[4].styles[0].href == "https://x.org/?q=1&r=2"


def test_only_web_links_are_links() -> None:
    [block] = convert("[rel](../x.jpg) [js](javascript:alert(1)) [ftp](ftp://h/f) <me@x.org>")
    assert all(not r.styles for r in block.runs)
    assert block.text == "rel js ftp me@x.org"


def test_images_become_links_or_alt_text() -> None:
    [block] = convert(
        "![chart](https://i.example/c.png) ![](https://i.example/d.png) ![qr](../qr.jpg)"
    )
    links = [(r.text, r.styles[0].href) for r in block.runs if r.styles]
    assert links == [("chart", "https://i.example/c.png"), ("图片", "https://i.example/d.png")]
    assert block.text.endswith("qr")


def test_raw_html_is_reduced_to_text() -> None:
    [block] = convert('<font color="red">注：</font>打开 &copy; <script>x</script>')
    assert block.text == "注：打开 © x"
    assert all(not r.styles for r in block.runs)
    blocks = convert('<div><a href="https://x">本作品</a></div>')
    assert [b.text for b in blocks] == ["本作品"]


def test_lines_lists_headings_quotes_and_code() -> None:
    blocks = convert("line1  \nline2\n\n- item **x**\n- two\n\n## Head\n\n> quoted\n\n    code()")
    assert [(b.kind, b.prefix, b.text) for b in blocks] == [
        ("para", "", "line1"),
        ("para", "", "line2"),
        ("para", "• ", "item x"),
        ("para", "• ", "two"),
        ("para", "", "Head"),
        ("quote", "", "quoted"),
        ("pre", "", "code()"),
    ]
    assert blocks[4].runs[0].styles == (BOLD,)


def test_ordered_lists_keep_their_numbers() -> None:
    blocks = convert("3. c\n4. d")
    assert [b.prefix for b in blocks] == ["3. ", "4. "]


def test_deep_nesting_is_flattened_not_crashing() -> None:
    blocks = convert("> " * 200 + "deep")
    assert [b.text for b in blocks] == ["deep"]
    [block] = convert("*" * 30 + "x" + "*" * 30)
    assert block.text == "x"
    assert set(block.runs[0].styles) <= {BOLD, ITALIC}


def test_control_characters_and_markdown_placeholders_never_leak() -> None:
    blocks = convert("a\x02b\x03c\x00 \\*not em\\* &amp; `\x02x`")
    text = "".join(b.text for b in blocks)
    assert "\x02" not in text and "\x03" not in text and "\x00" not in text
    assert text == "abc *not em* & x"
    assert blocks[0].runs[-1].styles == (CODE,)


def test_empty_input() -> None:
    assert convert("") == []
    assert convert("   \n\n ") == []


def test_line_joins_paragraphs() -> None:
    runs = InlineMarkdown().line("**a**\n\nb")
    assert "".join(r.text for r in runs) == "a b"
    assert runs[0].styles == (Style("bold"),)
