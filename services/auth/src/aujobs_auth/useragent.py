"""A short, human description of a User-Agent for the session list ("Chrome 131 on
Windows", "Safari on iPhone", "curl 8.5"). Deliberately small: no parser dependency,
only the browsers and systems that matter for recognising one's own devices."""

from __future__ import annotations

import re

_BROWSERS: list[tuple[str, str]] = [
    # order matters: Edge, Opera and Samsung Internet also say "Chrome" and "Safari"
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"(?:OPR|Opera)/(\d+)"),
    ("Samsung Internet", r"SamsungBrowser/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"),
]

_CLIENTS: list[tuple[str, str]] = [
    ("curl", r"^curl/([\d.]+)"),
    ("HTTPie", r"^HTTPie/([\d.]+)"),
    ("Python httpx", r"^python-httpx/([\d.]+)"),
    ("Python requests", r"^python-requests/([\d.]+)"),
    ("okhttp", r"okhttp/([\d.]+)"),
    ("Postman", r"^PostmanRuntime/([\d.]+)"),
    ("Australia Jobs app", r"^AustraliaJobs/([\d.]+)"),
]

_SYSTEMS: list[tuple[str, str]] = [
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
]


def describe(user_agent: str | None) -> str:
    if not user_agent:
        return "Unknown device"
    ua = user_agent[:500]
    for name, pattern in _CLIENTS:
        match = re.search(pattern, ua)
        if match:
            return f"{name} {match.group(1)}"
    browser = None
    for name, pattern in _BROWSERS:
        match = re.search(pattern, ua)
        if match:
            browser = f"{name} {match.group(1)}"
            break
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system or "Unknown device"
    return "Unknown device"
