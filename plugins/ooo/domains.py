"""A company as people name it to HubSpot: its record id, or its website's domain.

One reading for the absence's ``client_company`` (checked when filed, without asking HubSpot) and
for :meth:`ooo.services.hubspot.HubSpotClient.find_company` (which looks it up), so what is
accepted when filed is what is looked up later.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def web_domain(given: str) -> str | None:
    """``example.com`` from a domain, a ``www.`` domain or a URL; None when it is not one."""
    host = urlsplit(given if "//" in given else f"//{given}").hostname or ""
    host = host.lower().removeprefix("www.")
    return host if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host) else None


def company_ref(given: str) -> str | None:
    """A HubSpot company id (digits) or a website domain, as HubSpot is asked for it; None when it is neither."""
    text = (given or "").strip()
    if text.isdigit():
        return text
    try:
        return web_domain(text)
    except ValueError:  # urlsplit refuses some malformed hosts ("[x")
        return None
