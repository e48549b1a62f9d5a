"""Job descriptions: what survives sanitising, and the plain text derived from it."""

from __future__ import annotations

import pytest

from aujobs_jobs.richtext import html_to_text, sanitise_html, visible_length

REL = 'rel="nofollow noopener noreferrer ugc"'


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("<p>Hi</p><script>alert(1)</script>", "<p>Hi</p>"),
        ("<p>Hi<SCRIPT src=//evil.example/x.js></SCRIPT></p>", "<p>Hi</p>"),
        ('<p>Hi<img src=x onerror="alert(1)"></p>', "<p>Hi</p>"),
        ('<p onclick="steal()" style="position:fixed" class="x" id="y">Hi</p>', "<p>Hi</p>"),
        ('<p><a href="javascript:alert(1)">x</a></p>', f"<p><a {REL}>x</a></p>"),
        ('<p><a href=" JaVaScRiPt:alert(1)">x</a></p>', f"<p><a {REL}>x</a></p>"),
        ('<p><a href="data:text/html;base64,PHNjcmlwdD4=">x</a></p>', f"<p><a {REL}>x</a></p>"),
        ('<p><a href="/admin">x</a></p>', f"<p><a {REL}>x</a></p>"),
        ('<p>Hi<svg onload="alert(1)"><script>alert(2)</script></svg></p>', "<p>Hi</p>"),
        ('<p>Hi<iframe src="https://evil.example">fallback</iframe></p>', "<p>Hi</p>"),
        ("<style>body{display:none}</style><p>Hi</p>", "<p>Hi</p>"),
        ("<p>Hi<!-- <script>alert(1)</script> --></p>", "<p>Hi</p>"),
        ("<p>Hi<math><mi>x</mi></math></p>", "<p>Hi</p>"),
        ("<b><i>Hi</b></i>", "<b><i>Hi</i></b>"),
        ("<p><scr<script>ipt>alert(1)</script></p>", "<p>ipt&gt;alert(1)</p>"),
        (
            '<p><a href="https://x.example" target="_blank" rel="opener">x</a></p>',
            f'<p><a href="https://x.example" {REL}>x</a></p>',
        ),
    ],
)
def test_xss_vectors_are_neutralised(raw: str, safe: str) -> None:
    assert sanitise_html(raw) == safe


def test_allowed_formatting_is_preserved() -> None:
    raw = (
        "<h2>About</h2><h3>Role</h3><h4>Team</h4><p>We <strong>build</strong> <b>things</b>, "
        "<em>fast</em> <i>and</i> <u>well</u>.<br>Really.</p><ul><li>One</li></ul><ol><li>Two</li></ol>"
        "<blockquote>Quote</blockquote>"
        '<p><a href="https://example.com/jobs?a=1&amp;b=2">site</a> '
        '<a href="mailto:jobs@example.com">mail</a> <a href="http://example.com">old</a></p>'
    )
    expected = raw.replace('">', f'" {REL}>')
    assert sanitise_html(raw) == expected


def test_document_tags_become_their_nearest_allowed_tag() -> None:
    raw = (
        '<h1 style="x">Title</h1><div class="a">Line one</div><div>Line two</div><h5>Small</h5><span>x</span>'
    )
    assert sanitise_html(raw) == "<h2>Title</h2><p>Line one</p><p>Line two</p><h4>Small</h4>x"


def test_plain_text_becomes_escaped_paragraphs() -> None:
    raw = "Great role in Parramatta.\r\nStart ASAP.\n\n\n  Pay: <$100k & super  \n"
    assert (
        sanitise_html(raw)
        == "<p>Great role in Parramatta.<br>Start ASAP.</p><p>Pay: &lt;$100k &amp; super</p>"
    )


def test_unknown_tag_in_plain_text_is_shown_not_run() -> None:
    assert sanitise_html("I <3 Sydney <x onmouseover=alert(1)>") == (
        "<p>I &lt;3 Sydney &lt;x onmouseover=alert(1)&gt;</p>"
    )


def test_html_that_loses_every_tag_is_formatted_as_text() -> None:
    assert sanitise_html("<span>Hello</span>\n\n<span>World &lt;b&gt;</span>") == (
        "<p>Hello</p><p>World &lt;b&gt;</p>"
    )


@pytest.mark.parametrize("raw", ["", "   \n ", "<p></p><p>&nbsp;</p>", "<script>alert(1)</script>"])
def test_nothing_visible_sanitises_to_empty(raw: str) -> None:
    assert sanitise_html(raw) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "Plain text\nwith lines\n\nand paragraphs & <symbols>",
        "<div><div>nested</div>tail</div>",
        '<p><a href="javascript:x">x</a><a href="https://a.example">y</a></p>',
        "<ul><li>a<ul><li>b</li></ul></li></ul><!-- c -->",
        "<span>x &lt;b&gt; y</span>",
        "<table><tr><td>cell</td></tr></table><p>para",
        "<b><i>x</b></i><p>y",
    ],
)
def test_sanitising_twice_equals_once(raw: str) -> None:
    once = sanitise_html(raw)
    assert sanitise_html(once) == once


def test_html_to_text_is_readable() -> None:
    html = (
        "<h2>About&nbsp;us</h2>\n  <p>We   are <b>hiring</b> &amp; growing.<br>Apply now.</p>"
        "<ul>\n <li>Python</li>\n <li>SQL<ul><li>PostgreSQL</li></ul></li></ul><p>Thanks</p>"
    )
    assert html_to_text(html) == (
        "About us\n\nWe are hiring & growing.\nApply now.\n\n• Python\n• SQL\n  • PostgreSQL\n\nThanks"
    )


def test_html_to_text_ignores_script_content() -> None:
    assert html_to_text("<p>a</p><script>var x = 1;</script><style>p{}</style><p>b</p>") == "a\n\nb"


def test_visible_length_counts_text_not_markup() -> None:
    assert visible_length("<p><b>  Hi </b>\n there</p>") == len("Hi there")
    assert visible_length("<p>&amp;</p>") == 1
    assert visible_length("<p></p><ul><li> </li></ul><br>") == 0


def test_visible_length_supports_a_minimum_text_rule() -> None:
    padded = sanitise_html("<p>" + "<b> </b>" * 50 + "Short</p>")
    assert visible_length(padded) < 20
    assert visible_length(sanitise_html("A real description of the role.")) >= 20
