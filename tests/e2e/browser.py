"""A browser session that checks every page it visits: a screenshot and an axe-core audit.

Each persona (learner, instructor, ...) gets its own browser context. Every main-frame
navigation is recorded; `check(label)` screenshots the page into `artifacts/e2e/` and runs axe.
At the end of a test any page that was visited but never checked fails the test, so a journey
cannot quietly skip the accessibility check for one of its pages. Pages run under the site's
own Content-Security-Policy, and anything it refuses (an inline script or style, an `eval`)
fails the test too.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Locator, Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "e2e"
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
BLOCKING_IMPACTS = ("serious", "critical")
# Reports each Content-Security-Policy refusal to the test (an init script runs before the
# page's own scripts, and the policy does not apply to it).
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(`${e.effectiveDirective} refused ${e.blockedURI || "inline"} ` +
                     `at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
});
"""
WIDTHS = (390, 1280)  # a phone, a laptop
# The innermost elements that reach past the right edge of the screen, for the failure message.
PAST_THE_EDGE = """(width) => {
  const past = (el) => el.getBoundingClientRect().right > width + 0.5;
  return Array.from(document.querySelectorAll('body *'))
    .filter((el) => past(el) && !Array.from(el.children).some(past))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute('class') || ''}: ` +
                 el.textContent.trim().slice(0, 40));
}"""
THEMES = ("light", "dark")
# Long enough for a coach reply over the offline simulator, short enough to fail fast.
TIMEOUT_MS = 15_000


def page_key(url: str) -> str:
    """A page is its path and query; fragments and same-page anchors are the same page."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def blocking_violations(result: dict) -> list[str]:
    """One line per serious or critical axe violation: rule, impact, help, first targets."""
    lines = []
    for violation in result.get("violations", []):
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"][:3]]
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            f"{len(violation['nodes'])} node(s), e.g. {targets}"
        )
    return lines


@dataclass
class Visitor:
    """One persona's tab. `check()` after every navigation; the tour verifies it was done."""

    name: str
    context: BrowserContext
    page: Page
    folder: Path
    base_url: str
    navigated: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    page_errors: list[str] = field(default_factory=list)
    csp_refusals: list[str] = field(default_factory=list)
    shots: int = 0

    def goto(self, path: str, label: str) -> Page:
        self.page.goto(self.base_url + path)
        self.check(label)
        return self.page

    def check(self, label: str) -> None:
        """Screenshot the page as it is now and fail on any serious or critical axe violation."""
        self.page.wait_for_load_state("load")
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.folder / f"{self.shots:02d}-{slug}.png", full_page=True)
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated by the test, not added as a <script>: the page's policy allows none.
            self.page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
        result = self.page.evaluate(
            "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"
        )
        problems = blocking_violations(json.loads(result))
        self.checked.add(page_key(self.page.url))
        assert not problems, f"axe on {label} ({self.page.url}):\n" + "\n".join(problems)

    def check_everywhere(
        self,
        label: str,
        *,
        focus: Locator | None = None,
        also: Callable[[str, int, str], None] | None = None,
    ) -> None:
        """`check` the page as it is now at each width in each theme (a screenshot and axe for
        every pair), and fail if it is wider than the screen anywhere; then back to 1280 light.

        `focus` is scrolled into view before each check; `also(label, width, theme)` runs after
        it, for what a test looks at besides."""
        for theme in THEMES:
            self.page.emulate_media(color_scheme=theme)
            for width in WIDTHS:
                self.page.set_viewport_size({"width": width, "height": 900})
                if focus is not None:
                    focus.scroll_into_view_if_needed()
                self.check(f"{label} {width} {theme}")
                if also is not None:
                    also(label, width, theme)
                wide = self.page.evaluate("() => document.documentElement.scrollWidth")
                if wide > width:
                    culprits = self.page.evaluate(PAST_THE_EDGE, width)
                    raise AssertionError(
                        f"{label} is {wide} px wide on a {width} px screen ({theme}): {culprits}"
                    )
        self.page.emulate_media(color_scheme="light")
        self.page.set_viewport_size({"width": WIDTHS[-1], "height": 900})

    def unchecked(self) -> list[str]:
        return sorted({page_key(url) for url in self.navigated} - self.checked)

    @contextmanager
    def slow_network(self, latency_ms: int) -> Iterator[None]:
        """Every request of this tab takes `latency_ms` longer, as on a slow mobile connection."""
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": latency_ms,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            },
        )
        try:
            yield
        finally:
            cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
            cdp.detach()

    def tab_to(self, target: Locator, max_presses: int = 80) -> None:
        """Press Tab until `target` has the focus, as a keyboard user would; fail if never."""
        for _ in range(max_presses):
            self.page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{target} never received focus after {max_presses} Tab presses")


class Tour:
    """All personas of one test; closes their contexts and reports unchecked pages."""

    def __init__(self, browser: Browser, base_url: str, test_name: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.visitors: list[Visitor] = []

    def visitor(self, name: str) -> Visitor:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        refusals: list[str] = []
        context.expose_binding("__reportCsp", lambda source, text: refusals.append(text))
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        visitor = Visitor(name, context, page, self.folder / name, self.base_url)
        visitor.csp_refusals = refusals

        def on_navigated(frame) -> None:
            if frame == page.main_frame:
                visitor.navigated.append(frame.url)

        page.on("framenavigated", on_navigated)
        page.on("pageerror", lambda error: visitor.page_errors.append(str(error)))
        self.visitors.append(visitor)
        return visitor

    def close(self) -> list[str]:
        """Close every context; return the problems found (unchecked pages, script errors)."""
        problems = []
        for visitor in self.visitors:
            unchecked = visitor.unchecked()
            problems += [f"{visitor.name}: visited but not checked: {url}" for url in unchecked]
            problems += [f"{visitor.name}: script error: {e}" for e in visitor.page_errors]
            problems += [f"{visitor.name}: CSP refused {r}" for r in visitor.csp_refusals]
            visitor.context.close()
        return problems
