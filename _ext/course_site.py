"""Local Sphinx extension of the course site (``sphinx: local_extensions`` in _config.yml).

It does what configuration alone cannot do with the pinned toolchain (Jupyter Book
1.0.4, Sphinx 7.4, pydata-sphinx-theme 0.16.1):

1. Registers the pybtex style ``author_year`` (``bibtex_default_style``): the entries of
   the bibliography are labelled like the citations that point at them, e.g.
   ``[Dempster et al., 1977]`` instead of the alpha label ``[DLR77]``. The label is made
   with the same sphinxcontrib-bibtex templates as an ``author_year`` citation, so the
   two cannot drift apart; two entries with the same label get ``a``, ``b``, ... after
   the year.
2. Removes duplicated inline scripts from every page. Sphinx 7.4 adds an inline script
   registered after the builder started (``app.add_js_file(None, body=...)``, as
   sphinx-thebe and sphinx-togglebutton do) twice, once with the file name ``None`` and
   once with ``''``, so the page redeclares ``const THEBE_JS_URL`` and the console logs
   ``Identifier 'THEBE_JS_URL' has already been declared``. Fixed upstream in Sphinx 8.2
   (sphinx-doc/sphinx#13402), which Jupyter Book 1.x does not allow.
3. Starts a first visit in the theme's ``auto`` mode. pydata-sphinx-theme 0.16.1 reads
   the mode from ``localStorage``, which is empty on a first visit, and then logs
   ``Got invalid theme mode: . Resetting to auto.``. Setting ``html_context``'s
   ``default_mode`` to ``auto`` would instead write ``data-theme="auto"`` into the HTML,
   which no stylesheet rule matches (pages lose their colours until the script runs,
   and for good without JavaScript); ``light`` would stop following the reader's system
   setting. This script keeps the behaviour and sets the mode before the theme reads it.
4. Links every figure to its image file, so that a tap on a phone opens the figure at
   full size. Sphinx does this only for images given a size (``html_scaled_image_link``);
   the figures of the notebooks have none, and giving them one would change their layout.
5. Adds ``_static/course.css``: a scroll cue on display math, tables and outputs wider than
   the column, and headings that wrap instead of widening the page on a phone; and
   ``_static/course.js``, which lets an inline formula wider than its paragraph (on a
   phone) scroll in a box of its own instead of being cut off at the column's edge.
6. Sets Sphinx tags that say which edition is being built and which buttons it has, so
   that a page can describe only what the reader has (``{only}`` directives):
   ``edition_full`` or ``edition_student`` (config value ``course_edition``, set to
   ``student`` by scripts/student_edition.py), ``launch_buttons`` when a Binder or Colab
   button is configured, and ``download_button`` when the download button is on.
7. Leaves the Colab button off the labs' pages (``book/labs/``). A lab's checks are
   stored in its notebook, which otter-grader 7 cannot read on Colab: there
   ``otter.Notebook(...)`` raises "Tests directory ./tests does not exist" and no check
   runs. The Binder button and the download button stay.
8. Numbers the equations and figures of each unnumbered page (the labs, the notation
   page) from 1. Sphinx 7.4 counts them, on every page outside a numbered part, with
   one counter shared by all those pages (the key of the counter is the section number,
   empty for all of them), so the first equation of lab 2 would be numbered after the
   last of the notation page and of lab 1. A reference to one of them (``{eq}``,
   ``{numref}``) reads the same table, so text and label stay in step.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from string import ascii_lowercase

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.util.osutil import relative_uri
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join, year

STYLE_NAME = "author_year"

# Runs in <head>, after the theme's inline script and before its deferred script.
THEME_MODE_JS = (
    "(() => { const root = document.documentElement;"
    " if (!['light', 'dark', 'auto'].includes(root.dataset.mode)) {"
    " root.dataset.mode = 'auto';"
    " root.dataset.theme = matchMedia('(prefers-color-scheme: dark)').matches"
    " ? 'dark' : 'light'; } })();"
)


class AuthorYearLabelStyle(BaseLabelStyle):
    """Label each entry ``Author, year`` exactly as an ``author_year`` citation reads."""

    def format_labels(self, sorted_entries):
        reference_style = AuthorYearReferenceStyle()
        template = join(sep=reference_style.author_year_sep)[
            reference_style.person.author_or_editor_or_title(full=False), year
        ]
        labels = [
            template.format_data({"entry": entry, "style": reference_style}).render_as("text")
            for entry in sorted_entries
        ]
        # Entries come sorted by author, year and title, so suffixes follow that order.
        repeated = {label for label, count in Counter(labels).items() if count > 1}
        seen: Counter[str] = Counter()
        for label in labels:
            if label in repeated:
                seen[label] += 1
                yield label + ascii_lowercase[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(AlphaStyle):
    """The ``alpha`` style (sorted by author, year, title) with author-year labels."""

    default_label_style = STYLE_NAME


def register_bibtex_styles() -> None:
    register_plugin("pybtex.style.labels", STYLE_NAME, AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle)


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {})
    return (
        getattr(script, "filename", script) or "",
        getattr(script, "priority", 500),
        tuple(sorted(attributes.items())),
    )


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of scripts that differ only by a ``None`` / ``''`` file name."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: Sphinx restores the list after each page


def link_figures_to_images(app, doctree, docname) -> None:
    """Wrap the image of every figure in a link to the image file, as Sphinx does for
    scaled images: the reader taps a figure and the browser shows it at full size."""
    if app.builder.format != "html":
        return
    image_dir = relative_uri(app.builder.get_target_uri(docname), app.builder.imagedir)
    for figure in doctree.findall(nodes.figure):
        for image in figure.findall(nodes.image):
            if isinstance(image.parent, nodes.reference):
                continue
            uri = image["uri"]
            # env.images maps a source image to the unique file name it gets in _images.
            if uri not in app.env.images:
                continue
            link = nodes.reference("", "", internal=True, classes=["figure-image-link"])
            link["refuri"] = posixpath.join(image_dir, app.env.images[uri][1])
            image.replace_self(link)
            link.append(image)


LAB_PAGES = "book/labs/"


def drop_colab_button_on_labs(app, pagename, templatename, context, doctree) -> None:
    """Remove the Colab launch button from a lab's page (item 7 of the module's list)."""
    if not pagename.startswith(LAB_PAGES):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [button for button in group["buttons"]
                                if button.get("text") != "Colab"]
    context["header_buttons"] = [
        group for group in context.get("header_buttons", [])
        if group.get("label") != "launch-buttons" or group["buttons"]]


def number_unnumbered_pages_from_one(app, env) -> list[str]:
    """Number each figure type from 1 on every page without a section number (item 8).

    Runs after Sphinx's toctree collector (``env-get-updated``, priority 500) has assigned
    the numbers, keeps their order within the page, and returns the pages whose numbers
    changed so that Sphinx writes them again.
    """
    renumbered = []
    for docname, figtypes in env.toc_fignumbers.items():
        if env.toc_secnumbers.get(docname):
            continue
        changed = False
        for numbers in figtypes.values():
            for index, node_id in enumerate(sorted(numbers, key=numbers.get), start=1):
                if numbers[node_id] != (index,):
                    numbers[node_id] = (index,)
                    changed = True
        if changed:
            renumbered.append(docname)
    return renumbered


EDITIONS = ("full", "student")


def set_edition_tags(app, config) -> None:
    """Tag the build with its edition and the buttons its pages carry."""
    if config.course_edition not in EDITIONS:
        raise ValueError(
            f"course_edition is {config.course_edition!r}; set it to one of {EDITIONS} "
            "in the sphinx.config section of the book's configuration"
        )
    app.tags.add(f"edition_{config.course_edition}")
    options = config.html_theme_options or {}
    launch = options.get("launch_buttons") or {}
    if any(launch.get(key) for key in ("binderhub_url", "colab_url", "jupyterhub_url")):
        app.tags.add("launch_buttons")
    if options.get("use_download_button"):
        app.tags.add("download_button")


def setup(app):
    register_bibtex_styles()
    app.add_js_file(None, body=THEME_MODE_JS, priority=100)
    # After every other handler, some of which add scripts to the page.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # After sphinx-book-theme's add_launch_buttons (priority 501) has made the buttons.
    app.connect("html-page-context", drop_colab_button_on_labs, priority=600)
    app.connect("doctree-resolved", link_figures_to_images)
    app.connect("env-get-updated", number_unnumbered_pages_from_one, priority=600)
    app.add_config_value("course_edition", "full", "env")
    app.connect("config-inited", set_edition_tags)
    app.add_css_file("course.css")
    app.add_js_file("course.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
