"""Job descriptions: a safe HTML subset in, readable plain text out.

Employers paste descriptions from word processors and web editors, or type plain text.
What is stored and shown on the public site is :func:`sanitise_html` of it: a small set
of formatting tags with no attributes except a link's ``href`` (http, https or mailto),
every link marked ``rel="nofollow noopener noreferrer ugc"`` (user-generated content: no
SEO endorsement, no ``window.opener``, no referrer leak). Sanitising is done by nh3
(the Rust ammonia library, an html5ever parser), never by regular expressions.

:func:`html_to_text` is the plain text for the search index and emails;
:func:`visible_length` is how much real text a description holds, so the posting
schema can refuse an empty-looking one.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "u", "h2", "h3", "h4", "blockquote", "a"}
)
LINK_REL = "nofollow noopener noreferrer ugc"

# Dropped together with everything inside them (not just the tags).
_DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "noscript",
        "template",
        "object",
        "embed",
        "svg",
        "math",
        "title",
        "textarea",
    }
)

# Tags from pasted documents and rich-text editors kept as their nearest allowed tag, so
# that "<div>Line one</div><div>Line two</div>" does not become "Line oneLine two".
_RENAME = {"div": "p", "h1": "h2", "h5": "h4", "h6": "h4"}
_RENAME_RE = re.compile(r"<(/?)(div|h1|h5|h6)>")
_EMPTY_P_RE = re.compile(r"<p>(?:\s|&nbsp;|<br>)*</p>")

# Input holding one of these tags (or a comment) is HTML; anything else is plain text,
# so "<3" or "salary <$100k" in a typed description is kept as text, not eaten as a tag.
_HTML_TAG_NAMES = (
    ALLOWED_TAGS
    | _RENAME.keys()
    | _DROP_WITH_CONTENT
    | {"html", "head", "body", "meta", "link", "base", "span", "font", "img", "hr", "pre", "code"}
    | {"table", "thead", "tbody", "tr", "td", "th", "section", "article", "header", "footer", "nav"}
    | {"main", "s", "strike", "del", "ins", "sub", "sup", "small", "big", "center", "mark", "dl", "dt"}
    | {"dd", "form", "input", "button", "frame", "frameset", "applet", "video", "audio", "source", "canvas"}
)
_HTML_TAG_RE = re.compile(r"<!--|</?(" + "|".join(sorted(_HTML_TAG_NAMES)) + r")(?=[\s/>])", re.IGNORECASE)


def _cleaner(tags: frozenset[str]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


_FIRST_PASS = _cleaner(ALLOWED_TAGS | _RENAME.keys())
_FINAL_PASS = _cleaner(ALLOWED_TAGS)


def _plain_text_to_html(text: str) -> str:
    """Blank-line separated blocks become paragraphs, single newlines line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [html.escape(line.strip(), quote=False) for line in block.split("\n")]
        paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(paragraphs)


def sanitise_html(raw: str) -> str:
    """The safe HTML of a description given as HTML or as plain text (see the module doc).

    Idempotent: sanitising the result again returns it unchanged.
    """
    if not raw.strip():
        return ""
    if not _HTML_TAG_RE.search(raw):
        return _FINAL_PASS.clean(_plain_text_to_html(raw))
    first = _FIRST_PASS.clean(raw)  # attributes gone, so renamed tags are exactly "<div>", "</div>"
    renamed = _RENAME_RE.sub(lambda m: f"<{m[1]}{_RENAME[m[2]]}>", first)
    # Re-parsed because renaming can nest paragraphs, which the parser splits apart.
    cleaned = _EMPTY_P_RE.sub("", _FINAL_PASS.clean(renamed)).strip()
    if _HTML_TAG_RE.search(cleaned):
        return cleaned
    # Nothing but text survived ("<span>Hello</span>"): format it as the plain text it
    # now is, as sanitising the result again would.
    text = html.unescape(cleaned)
    return _FINAL_PASS.clean(_plain_text_to_html(text)) if text.strip() else ""


_BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr"})
_LIST_TAGS = frozenset({"ul", "ol"})
_SKIP_TAGS = frozenset({"script", "style"})

# Markers in the extracted text, resolved by html_to_text: a paragraph break, a line
# break that merges with its neighbours (list items), a <br>, one level of list indent.
_BLOCK, _LINE, _BR, _INDENT = "\x01", "\x02", "\x04", "\x03"
_BREAKS_RE = re.compile(r"[ \x01\x02\x04]*[\x01\x02\x04][ \x01\x02\x04]*")


def _resolve_breaks(match: re.Match[str]) -> str:
    run = match[0]
    if _BLOCK in run or run.count(_BR) > 1:  # <br><br> reads as a paragraph break
        return "\n\n"
    return "\n"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []  # the text with break markers
        self.visible: list[str] = []  # the text alone
        self._skipping = 0
        self._list_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _LIST_TAGS:
            self.parts.append(_LINE if self._list_depth else _BLOCK)
            self._list_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(_BLOCK)
        elif tag == "li":
            self.parts.append(_LINE + _INDENT * max(0, self._list_depth - 1) + "• ")
        elif tag == "br":
            self.parts.append(_BR)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _LIST_TAGS:
            self._list_depth = max(0, self._list_depth - 1)
            self.parts.append(_LINE if self._list_depth else _BLOCK)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_BLOCK)
        elif tag == "li":
            self.parts.append(_LINE)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
            self.visible.append(data)


def _extract(html_text: str) -> _TextExtractor:
    parser = _TextExtractor()
    parser.feed(html_text)
    parser.close()
    return parser


def html_to_text(html_text: str) -> str:
    """Readable plain text: blocks separated by a blank line, list items on their own
    line after "• " (nested ones indented), entities unescaped, whitespace collapsed."""
    text = re.sub(r"\s+", " ", "".join(_extract(html_text).parts))
    text = _BREAKS_RE.sub(_resolve_breaks, text)
    return text.replace(_INDENT, "  ").strip()


def visible_length(html_text: str) -> int:
    """How many characters of text a reader sees, whitespace runs counted as one."""
    return len(" ".join("".join(_extract(html_text).visible).split()))
