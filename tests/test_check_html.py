"""Tests of scripts/check_html.py, which finds TeX shown as raw text in the built pages."""

from __future__ import annotations

from script_modules import load_script

check_html = load_script("check_html")

# How MyST renders math and code in this book (trimmed from a built page).
TYPESET = """<html><head><script>window.MathJax = {"a": "\\\\frac"}</script>
<style>.x::before { content: "\\\\sum"; }</style></head><body>
<p>Inline <span class="math notranslate nohighlight">\\(\\boldsymbol{\\mu}_k\\)</span>, a
code span <code class="docutils literal"><span class="pre">r"\\mathbf"</span></code>.<br>
Escaped \\\\ backslash, a path C:\\ and a lone \\ stay.</p>
<div class="math notranslate nohighlight" id="eq">
\\[\\sum_k \\pi_k = 1 <span class="eqno">(1)</span>\\]</div>
<div class="cell_output"><pre>print("\\frac")</pre></div>
<img src="a.png" alt="\\alpha"><p>After an image: $$\\int f$$ and \\(\\nu\\).</p>
</body></html>"""

# A formula line that Markdown read as a bullet (Exercise 2.1 before the fix).
BROKEN = """<html><body><ol><li><p>The E-step gives point
<span class="math notranslate nohighlight">\\(n\\)</span> a centre with
$\\lVert \\mathbf{x}_n - \\boldsymbol{\\mu}_{k'} \\rVert^2 = \\min_j \\lVert \\mathbf{x}_n</p>
<ul class="simple"><li><p>\\boldsymbol{\\mu}_j \\rVert^2$, which is at most</p></li></ul>
</li></ol></body></html>"""


def test_math_code_scripts_and_attributes_are_not_text():
    assert check_html.raw_tex(TYPESET) == []


def test_raw_tex_is_found_with_its_line_and_words():
    findings = check_html.raw_tex(BROKEN)
    assert [line for line, _, _ in findings] == [3, 4]
    line3_words = findings[0][1]
    assert line3_words[:2] == ["\\lVert", "\\mathbf"] and "\\min" in line3_words
    assert findings[1][1] == ["\\boldsymbol", "\\mu", "\\rVert"]
    assert "\\boldsymbol{\\mu}_j" in findings[1][2]


def test_text_after_a_closed_math_element_is_checked_again():
    html = '<p><span class="math">\\(a\\)</span> then \\frac{1}{2} in text</p>'
    assert [words for _, words, _ in check_html.raw_tex(html)] == [["\\frac"]]


def test_unclosed_inline_elements_do_not_hide_the_rest_of_the_page():
    html = '<div><p><code>x</p></div><p>\\sum left over</p>'
    assert [words for _, words, _ in check_html.raw_tex(html)] == [["\\sum"]]


def test_main_fails_on_raw_tex_and_passes_on_a_clean_build(tmp_path, capsys):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ok.html").write_text(TYPESET, encoding="utf-8")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "vendor.html").write_text(BROKEN, encoding="utf-8")
    assert check_html.main([str(tmp_path)]) == 0
    (tmp_path / "book" / "bad.html").write_text(BROKEN, encoding="utf-8")
    assert check_html.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "bad.html:4: raw TeX (\\boldsymbol \\mu \\rVert)" in out
    assert "vendor.html" not in out


def test_main_fails_when_nothing_was_built(tmp_path):
    assert check_html.main([str(tmp_path)]) == 1
