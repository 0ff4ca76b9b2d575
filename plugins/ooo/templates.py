"""Every text a person reads: the templates in ``include/templates/``, rendered, and the helpers
that shape values for them (dates and times as people read them, user content made plain text).

Four kinds of template, told apart by their ending:

* ``*.html``: autoescaped HTML (note bodies and free text are user content);
* ``*.slack``: Slack mrkdwn; every value is escaped for Slack (``&``, ``<``, ``>``) unless it is a
  :class:`Mrkdwn` (a mention like ``<@U123>`` or a link the code built);
* ``*.md``: Markdown for the Airflow UI; every value has Markdown and HTML characters escaped;
* ``*.txt``: plain text, left as it is.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

TEMPLATES_DIR = Path(os.environ.get("OOO_TEMPLATES_DIR")
                     or Path(__file__).resolve().parents[2] / "include" / "templates")


class Mrkdwn(str):
    """Text that is already Slack markup (a mention, a link): not escaped again."""


def slack_escape(value: Any) -> str:
    if isinstance(value, Mrkdwn):
        return value
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: What can turn text into markup inline: emphasis, code, links and images (all need ``[``), HTML,
#: headings, tables, strikethrough. Plain punctuation (``(``, ``-``, ``.``) stays readable.
_MARKDOWN_SPECIAL = "\\`*_[]<>#|~"


def markdown_escape(value: Any) -> str:
    text = "" if value is None else str(value)
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)


def long_date(value: dt.date | dt.datetime | str) -> str:
    """``Tuesday, December 1, 2026``: how the procedure writes dates to people."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%A, %B} {value.day}, {value.year}"


def short_date(value: dt.date | dt.datetime | str) -> str:
    """``Tue Dec 1``."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%a %b} {value.day}"


def local_time(value: dt.datetime | str, tz: str | None = None) -> str:
    """``Tue Dec 1, 4:05 PM MST`` in ``tz`` (the employee's zone)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if tz:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(tz))
    hour = value.hour % 12 or 12
    return f"{value:%a %b} {value.day}, {hour}:{value:%M %p %Z}".strip()


def compiled_templates(kind: str, directory: str | None = None) -> BytecodeCache | None:
    """Where templates of ``kind`` are kept compiled for the next process: each task renders its texts
    and its run note afresh, and compiling a template costs it more than rendering it. Jinja's own
    place by default (a directory of this user's alone, under the system's temp directory), one file
    name pattern per kind (each compiles differently); a template changed since is compiled again.
    None when no such directory can be had: then every process compiles."""
    try:
        return FileSystemBytecodeCache(directory, pattern=f"__ooo_{kind}_%s.cache")
    except (OSError, RuntimeError):
        return None


def _environment(kind: str, finalize: Any = None, autoescape: Any = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        bytecode_cache=compiled_templates(kind),
        autoescape=autoescape,  # noqa: S701 - only HTML is autoescaped; the other kinds escape in finalize
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=finalize,
    )
    env.filters.update(long_date=long_date, short_date=short_date, local_time=local_time)
    return env


@cache
def _environments() -> dict[str, Environment]:
    return {
        "html": _environment("html", autoescape=select_autoescape(["html"], default=False)),
        "slack": _environment("slack", finalize=slack_escape),
        "md": _environment("md", finalize=markdown_escape),
        "txt": _environment("txt"),
    }


def render(name: str, **context: Any) -> str:
    """Render ``include/templates/<name>`` with ``context``; the ending picks the escaping."""
    kind = name.rsplit(".", 1)[-1]
    env = _environments().get(kind, _environments()["txt"])
    return env.get_template(name).render(**context).strip() + "\n"


def split_subject(text: str) -> tuple[str, str]:
    """A rendered template whose first line is ``Subject: ...``: the subject, and the body after
    the blank line (emails, calendar events: the subject stays in the template with its text)."""
    head, _, body = text.partition("\n\n")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


# -- user content --------------------------------------------------------------------------------
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
