"""User content (HTML from SaaS tools) turned into plain text, safe to show once escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

__all__ = ["html_to_text"]


class _Text(HTMLParser):
    """HTML -> text: tags dropped, <script>/<style> content dropped, blocks become lines."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(body: str | None) -> str:
    """``body`` (HTML or plain text) as plain text: markup and scripts removed, blank lines dropped."""
    parser = _Text()
    parser.feed(body or "")
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
