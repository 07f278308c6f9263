"""Check the built book in a real (headless) browser, as a reader on a phone or a desktop.

Part of ``make test``, after the strict build. What only a browser can tell:

**Every page** of the book (``book/*.html`` and the labs, ``book/labs/*.html``), at a
phone width (390x844) and a desktop width (1280x800), once MathJax has typeset it:

- no page is wider than the screen (nothing to scroll sideways but the boxes meant to);
- no TeX control word (``\\frac``) in the text outside rendered math and code;
- no inline formula runs past the edge of the text column (MathJax 3 does not break
  inline math; ``_static/course.js`` lets a formula too wide for a phone scroll in its
  own box), in the text and in opened solutions;
- every figure has a numbered caption and alt text, and every image of a cell's output
  sits in such a figure; no image has a hashed file name for alt text;
- the code and output of every solution are hidden until its solution is opened, and
  shown once it is (full edition);
- at desktop width no code cell scrolls sideways, solutions included (cells are at most
  80 columns; on a phone they scroll, with a cue);
- no console error, no failed request, and no request to another host: the page works
  offline.

**The menus**, on a chapter, at a phone, a tablet upright and on its side, and a laptop
width:

- the hamburger (primary sidebar toggle) opens the chapter list and closes it again:
  below the theme's 992 px breakpoint it opens a drawer (``<dialog>``) that Escape and a
  click beside it close; at desktop width it hides the sidebar and shows it again;
- the contents button (secondary sidebar toggle) opens the page's table of contents in a
  drawer where it is shown (narrow screens), and the table of contents is on screen
  where the button is hidden (wide screens);
- the page renders (a visible ``<h1>``, typeset math), has its favicon, starts in a valid
  light/dark theme on a first visit, shows one search control (not a second search box
  in the top bar), search finds pages, and the browser console shows no error other
  than the known, unrelated ones listed in ``KNOWN_CONSOLE_ERRORS`` (none at present);
- the bibliography labels its entries author-year, as the citations read: every
  parenthetical citation of a chapter is one of the bibliography's labels.

"Open" means a link of the menu is on screen and is the topmost element at its own
centre (so a reader could tap it), not merely present in the DOM.

It uses Playwright for Python (a test dependency) with the system's Chromium; Playwright's
own browser download is not needed::

    python scripts/browser_check.py            # checks _build/html
    python scripts/browser_check.py _build/html --screenshots _build/browser-check

Chromium is looked up as ``$CHROMIUM``, then ``chromium`` / ``chromium-browser`` /
``google-chrome`` on PATH (Debian: ``apt-get install chromium``); ``--chromium PATH``
overrides. The script serves the directory itself on a free local port. With
``--screenshots`` it keeps a full-page screenshot of every page at both widths, and of
each menu state, for a person to look at. It exits 0 when every check passes, 1
otherwise, and prints one line per check.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path

# Widths at which every page is checked: a phone and a laptop.
PAGE_VIEWPORTS = [(390, 844), (1280, 800)]
# A phone, a tablet upright and on its side (either side of the theme's 992 px
# breakpoint), and a laptop.
VIEWPORTS = [(390, 844), (820, 1180), (1024, 768), (1280, 800)]
PAGE = "book/01-gaussian-mixtures.html"
BIBLIOGRAPHY = "book/bibliography.html"
CITING_PAGES = ("book/intro.html", PAGE)
# "[Dempster et al., 1977]", "[McLachlan and Peel, 2000]", "[Smith, 2000a]".
AUTHOR_YEAR_LABEL = r"^\[\S.*, (\d{4}[a-z]?|n\.d\.)\]$"
SEARCH_TERM = "responsibilities"

# Console errors that are known and unrelated to what this script checks. Empty: the
# three that used to be here are fixed and must not come back (sphinx-thebe's
# configuration script included twice, "Identifier 'THEBE_JS_URL' has already been
# declared"; pydata-sphinx-theme's "Got invalid theme mode" on a first visit; a 404 for
# /favicon.ico). See _ext/course_site.py and _static/favicon.png.
KNOWN_CONSOLE_ERRORS: tuple[str, ...] = ()

# Links of the chapter list (primary sidebar) and of the page's contents (secondary).
PRIMARY_LINKS = "nav.bd-docs-nav a.reference"
SECONDARY_LINKS = "nav.page-toc a.nav-link"

# True when some element matching the selector is on screen, not hidden, and is the
# topmost element at its centre, i.e. a reader can see and tap it.
REACHABLE_JS = """(selector) => {
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    if (getComputedStyle(el).visibility !== "visible") continue;
    const top = document.elementFromPoint(x, y);
    if (top && (top === el || el.contains(top))) return true;
  }
  return false;
}"""


# Inline formulas that run past the text column, where it cuts them off (a hidden one,
# in a folded solution, has no width and is not counted; one in a box that scrolls
# sideways, such as a wide table, can be scrolled to).
CUT_MATH_JS = r"""() => {
  const article = document.querySelector("article") || document.body;
  const column = article.getBoundingClientRect();
  return [...article.querySelectorAll('mjx-container:not([display="true"])')]
    .filter((m) => {
      const r = m.getBoundingClientRect();
      if (r.width === 0 || (r.right <= column.right + 1 && r.left >= column.left - 1)) {
        return false;
      }
      // Inside a box that scrolls sideways (a wide table, say) it is reached by scrolling.
      for (let e = m.parentElement; e && e !== article; e = e.parentElement) {
        if (["auto", "scroll"].includes(getComputedStyle(e).overflowX)) return false;
      }
      return true;
    })
    .map((m) => (m.querySelector("mjx-assistive-mml")?.textContent || "?").slice(0, 40));
}"""

# What a reader sees on one page, gathered once MathJax has finished.
PAGE_FACTS_JS = r"""() => {
  const cutMath = CUT_MATH;
  const article = document.querySelector("article") || document.body;
  const facts = {scrollWidth: document.documentElement.scrollWidth, innerWidth};
  // Text outside rendered math and code, as check_html.py reads it in the HTML source.
  const skip = "mjx-container, .math, pre, code, kbd, samp, script, style, textarea";
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode:
    (n) => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const tex = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/\[A-Za-z]+/);
    if (m) tex.push(n.textContent.trim().slice(0, 60));
  }
  facts.tex = tex;
  facts.cutMath = cutMath();
  facts.figures = [...article.querySelectorAll("figure")].map((f) => ({
    id: f.id,
    number: (f.querySelector("figcaption .caption-number")?.textContent || "").trim(),
    caption: (f.querySelector("figcaption .caption-text")?.textContent || "").trim(),
    alts: [...f.querySelectorAll("img")].map((i) => i.getAttribute("alt") || ""),
  }));
  facts.loose = [...article.querySelectorAll(".cell_output img")]
    .filter((i) => !i.closest("figure")).map((i) => i.getAttribute("src").slice(0, 60));
  facts.badAlt = [...article.querySelectorAll("img")]
    .map((i) => i.getAttribute("alt") || "")
    .filter((a) => !a.trim() || /^[0-9a-f]{16,}(\.\w+)?$/.test(a.trim()));
  return facts;
}""".replace("CUT_MATH", CUT_MATH_JS)

# The code cells of a solution, and whether any of their code or output is visible.
SOLUTION_CODE_JS = r"""() => {
  const cells = [...document.querySelectorAll(".solution .cell, .solution .cell_output")];
  const visible = cells.filter((c) => {
    const r = c.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(c).visibility === "visible";
  });
  return [cells.length, visible.length];
}"""


def book_pages(html_dir: Path) -> list[str]:
    """The pages of the book: the chapters, the labs (``book/labs/``) and the front
    matter, not search or index pages."""
    return sorted(str(p.relative_to(html_dir)) for p in (html_dir / "book").rglob("*.html"))


def typeset(page) -> None:
    """Wait until MathJax has typeset the page (if it has math at all)."""
    page.wait_for_function("() => !window.MathJax || window.MathJax.startup?.promise",
                           timeout=30000)
    # MathJax's startup promise settles once the first typesetting is done; evaluate awaits it.
    page.evaluate("() => window.MathJax && window.MathJax.startup.promise")


def check_page(browser, base: str, name: str, width: int, height: int,
               shots: Path | None, c: Checker) -> None:
    """Every page-level check of one page at one width; see the module docstring."""
    tag = f"{width}px {name}"
    host = base.split("/")[2]
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: foreign.append(r.url)
            if r.url.split("/")[0] in ("http:", "https:") and r.url.split("/")[2] != host
            else None)
    page.goto(base + name)
    page.wait_for_load_state("networkidle")
    typeset(page)
    facts = page.evaluate(PAGE_FACTS_JS)
    c.check(f"{tag}: no wider than the screen",
            facts["scrollWidth"] <= facts["innerWidth"],
            f"{facts['scrollWidth']} px wide in a {facts['innerWidth']} px window")
    c.check(f"{tag}: no raw TeX outside math", not facts["tex"], "; ".join(facts["tex"][:3]))
    c.check(f"{tag}: no inline formula runs past the column", not facts["cutMath"],
            f"{len(facts['cutMath'])}: " + "; ".join(facts["cutMath"][:3]))
    figures = facts["figures"]
    bad = [f["id"] or "?" for f in figures
           if not (f["number"].startswith("Figure") and len(f["caption"].split()) >= 6
                   and f["alts"] and all(len(a.split()) >= 4 for a in f["alts"]))]
    c.check(f"{tag}: {len(figures)} figure(s) numbered, captioned, with alt text",
            not bad and not facts["loose"] and not facts["badAlt"],
            "; ".join([f"figure {b} lacks number, caption or alt" for b in bad[:3]]
                      + [f"image outside a figure: {s}" for s in facts["loose"][:3]]
                      + [f"alt text {a!r}" for a in facts["badAlt"][:3]]))
    if shots:
        page.screenshot(path=str(shots / f"page-{width}-{Path(name).stem}.png"),
                        full_page=True)
    toggles = page.locator(".solution.dropdown .toggle-button, "
                           ".solution.dropdown button.toggle-button")
    total, shown = page.evaluate(SOLUTION_CODE_JS)
    if total:
        c.check(f"{tag}: solution code hidden until opened", shown == 0,
                f"{shown} of {total} solution code cells or outputs visible")
        for i in range(toggles.count()):
            toggles.nth(i).click()
        settle(page)
        total, shown = page.evaluate(SOLUTION_CODE_JS)
        c.check(f"{tag}: opening the solutions shows their code", shown == total,
                f"{shown} of {total} visible after opening {toggles.count()} solutions")
        page.wait_for_timeout(300)  # course.js marks wide formulas 0.5 s after a click
        cut = page.evaluate(CUT_MATH_JS)
        c.check(f"{tag}: no inline formula of an opened solution runs past the column",
                not cut, f"{len(cut)}: " + "; ".join(cut[:3]))
    if width >= 1000:
        wide = page.evaluate("() => [...document.querySelectorAll('.cell_input pre')]"
                             ".filter((p) => p.scrollWidth > p.clientWidth + 1).length")
        c.check(f"{tag}: no code cell scrolls sideways", wide == 0, f"{wide} do")
    c.check(f"{tag}: no console errors or failed requests", not errors,
            "; ".join(errors)[:300])
    c.check(f"{tag}: no request to another host", not foreign, "; ".join(foreign[:3]))
    page.close()


def find_chromium(explicit: str | None) -> str:
    candidates = [explicit, os.environ.get("CHROMIUM")]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    for c in candidates:
        if c and Path(c).exists():
            return c
    sys.exit("No Chromium found: install it (apt-get install chromium) or pass --chromium.")


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Checker:
    def __init__(self) -> None:
        self.failures = 0
        self.passes = 0

    def check(self, label: str, ok: bool, detail: str = "") -> bool:
        print(f"{'ok  ' if ok else 'FAIL'} {label}" + (f"  ({detail})" if detail else ""))
        self.failures += not ok
        self.passes += bool(ok)
        return ok


def reachable(page, selector: str) -> bool:
    return page.evaluate(REACHABLE_JS, selector)


def dialog_open(page, dialog_id: str) -> bool:
    return page.evaluate(
        "(id) => { const d = document.getElementById(id); return !!(d && d.open); }",
        dialog_id)


def settle(page) -> None:
    page.wait_for_timeout(400)  # the theme's transitions take up to 0.3 s


def drawer(c: Checker, page, toggle, tag: str, button: str, name: str, dialog_id: str,
           links: str, beside: tuple[int, int], shot=None) -> None:
    """Open a drawer with its button, close it with Escape; open it, close it by a click
    beside it. What counts is whether its links are reachable; the theme's <dialog> state
    is reported alongside."""
    toggle.click()
    settle(page)
    if shot:
        shot()
    c.check(f"{tag} {button} opens the {name} drawer", reachable(page, links),
            f"dialog open: {dialog_open(page, dialog_id)}")
    page.keyboard.press("Escape")
    settle(page)
    c.check(f"{tag} Escape closes the {name} drawer", not reachable(page, links),
            f"dialog open: {dialog_open(page, dialog_id)}")
    toggle.click()
    settle(page)
    opened = reachable(page, links)
    page.mouse.click(*beside)  # on the backdrop
    settle(page)
    c.check(f"{tag} a click beside the {name} drawer closes it",
            opened and not reachable(page, links),
            f"reopened: {opened}, dialog open: {dialog_open(page, dialog_id)}")


def check_viewport(browser, base: str, width: int, height: int, shots: Path | None,
                   c: Checker) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    tag = f"{width}x{height}"
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} [{m.location.get('url')}]")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)

    def shot(name: str) -> None:
        if shots:
            page.screenshot(path=str(shots / f"{tag}-{name}.png"))

    page.goto(base + PAGE)
    page.wait_for_load_state("networkidle")
    c.check(f"{tag} page renders a visible h1", page.locator("article h1").first.is_visible())
    c.check(f"{tag} math is typeset", page.locator("mjx-container").count() > 0)
    icon = page.evaluate("""async () => {
      const link = document.querySelector("link[rel~=icon]");
      if (!link) return "no <link rel=icon>";
      const response = await fetch(link.href);
      const type = response.headers.get("content-type") || "";
      return response.ok && type.startsWith("image/") ? "" : `${response.status} ${type}`;
    }""")
    c.check(f"{tag} the page has a favicon", not icon, icon)
    theme = page.evaluate(
        "() => [document.documentElement.dataset.mode, document.documentElement.dataset.theme]")
    c.check(f"{tag} first visit starts in a valid theme mode",
            theme[0] in ("light", "dark", "auto") and theme[1] in ("light", "dark"),
            f"mode {theme[0]!r}, theme {theme[1]!r}")
    # One search control on screen: the sidebar's search field where the sidebar is
    # shown, the top bar's search button where it is not; never a second box beside it.
    searches = page.locator(".search-button:visible, .search-button-field:visible, "
                            "form.bd-search:visible, #searchbox:visible")
    c.check(f"{tag} exactly one visible search control", searches.count() == 1,
            f"{searches.count()} visible")
    shot("0-page")

    # Primary sidebar: the one visible hamburger (the theme renders hidden copies too).
    toggle = page.locator(".primary-toggle:visible")
    if c.check(f"{tag} exactly one visible hamburger", toggle.count() == 1,
               f"{toggle.count()} visible"):
        # At desktop widths the sidebar is part of the layout and the hamburger hides it;
        # below the breakpoint it is off screen and the hamburger opens it as a drawer.
        if reachable(page, PRIMARY_LINKS):
            toggle.click()
            settle(page)
            shot("1-primary-after-click")
            c.check(f"{tag} hamburger hides the sidebar", not reachable(page, PRIMARY_LINKS))
            c.check(f"{tag} ... without opening a drawer",
                    not dialog_open(page, "pst-primary-sidebar-modal"))
            toggle.click()
            settle(page)
            shot("2-primary-after-second-click")
            c.check(f"{tag} hamburger shows the sidebar again", reachable(page, PRIMARY_LINKS))
        else:
            drawer(c, page, toggle, tag, "hamburger", "chapter", "pst-primary-sidebar-modal",
                   PRIMARY_LINKS, beside=(width - 5, height // 2),
                   shot=lambda: shot("1-primary-after-click"))

    # Secondary sidebar (this page's contents).
    toggle = page.locator(".secondary-toggle:visible")
    if toggle.count() == 0:
        c.check(f"{tag} contents button hidden, contents on screen instead",
                reachable(page, SECONDARY_LINKS))
    elif c.check(f"{tag} exactly one visible contents button", toggle.count() == 1,
                 f"{toggle.count()} visible"):
        drawer(c, page, toggle, tag, "contents button", "contents", "pst-secondary-sidebar-modal",
               SECONDARY_LINKS, beside=(5, height // 2), shot=lambda: shot("3-secondary"))

    # Search, as a reader does it: the visible search button opens the search dialog, and
    # the query leads to the search page, which must list pages of the book.
    page.keyboard.press("Escape")
    button = page.locator(".search-button:visible, .search-button-field:visible").first
    button.click()
    settle(page)
    if c.check(f"{tag} search button opens the search box",
               dialog_open(page, "pst-search-dialog")):
        page.locator("#pst-search-dialog input[name=q]").fill(SEARCH_TERM)
        page.keyboard.press("Enter")
        page.wait_for_url("**/search.html?q=*")
    else:
        page.goto(base + f"search.html?q={SEARCH_TERM}")
    try:
        page.wait_for_function(  # Sphinx fills the summary in when the search is done
            "() => /found/i.test(document.querySelector('.search-summary')?.textContent)",
            timeout=15000)
        hits = page.locator("#search-results ul.search li").count()
    except PlaywrightTimeout:
        hits = 0
    c.check(f"{tag} search for {SEARCH_TERM!r} lists pages", hits > 0, f"{hits} hits")
    shot("4-search")

    unknown = [e for e in errors if not any(k in e for k in KNOWN_CONSOLE_ERRORS)]
    c.check(f"{tag} no unexpected console errors", not unknown, "; ".join(unknown)[:500])
    page.close()


def check_bibliography(browser, base: str, shots: Path | None, c: Checker) -> None:
    """The bibliography's labels read author-year, and the parenthetical citations of
    the citing pages are among them (so a reader finds "[Bishop, 2006]" under that
    label)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(base + BIBLIOGRAPHY)  # the labels are in the HTML: no need to wait for more
    labels = [" ".join(t.split()) for t in page.locator(".citation .label").all_inner_texts()]
    odd = [label for label in labels if not re.match(AUTHOR_YEAR_LABEL, label)]
    c.check("bibliography labels are author-year", bool(labels) and not odd,
            f"{len(labels)} labels" + (f"; not author-year: {odd[:3]}" if odd else ""))
    if shots:
        page.screenshot(path=str(shots / "bibliography.png"))
    for name in CITING_PAGES:
        page.goto(base + name)
        cited = [" ".join(t.split()) for t in page.locator(".bibtex-citation").all_inner_texts()]
        # Parenthetical citations of one work: "[Lloyd, 1982]" (textual ones read
        # "Neal and Hinton [1998]", several works "[A, 1990, B, 1991]").
        single = [t for t in cited if t.startswith("[") and t.count(",") == 1]
        missing = [t for t in single if t not in labels]
        c.check(f"citations of {name} match bibliography labels", bool(single) and not missing,
                f"{len(single)} parenthetical" + (f"; not in bibliography: {missing[:3]}"
                                                  if missing else ""))
        if shots:
            page.screenshot(path=str(shots / f"citations-{Path(name).stem}.png"))
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--chromium", help="path of the Chromium executable")
    parser.add_argument("--screenshots", type=Path, help="save screenshots in this folder")
    args = parser.parse_args()

    if not (args.html_dir / PAGE).exists():
        sys.exit(f"{args.html_dir / PAGE} not found: run `make book` first.")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    server, base = serve(args.html_dir)
    c = Checker()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=find_chromium(args.chromium),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )
            for name in book_pages(args.html_dir):
                for width, height in PAGE_VIEWPORTS:
                    check_page(browser, base, name, width, height, args.screenshots, c)
            for width, height in VIEWPORTS:
                check_viewport(browser, base, width, height, args.screenshots, c)
            check_bibliography(browser, base, args.screenshots, c)
            browser.close()
    finally:
        server.shutdown()
    # The summary in the form CI logs are read for: "browser: N passed, M failed".
    print(f"browser: {c.passes} passed, {c.failures} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
