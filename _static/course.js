/* Course site script, added by _ext/course_site.py.

   MathJax 3 does not break inline formulas across lines, so on a phone a long one runs
   past the edge of the text column, where the column cuts it off. Once MathJax has typeset
   the page (and again when the window changes width or a folded block opens), every
   inline formula wider than its paragraph gets the class course-wide-math, which
   course.css turns into a box that scrolls sideways with the same cue as display math.
   Formulas that fit stay ordinary inline text: a scrolling box would move their
   baseline. */
(() => {
  const mark = () => {
    for (const math of document.querySelectorAll('mjx-container:not([display="true"])')) {
      math.classList.remove("course-wide-math");
      // The paragraph (or cell, item...) it sits in: an inline parent has no width.
      const holder = math.closest("p, li, td, th, dd, dt, figcaption, blockquote, div");
      if (holder && math.getBoundingClientRect().width > holder.clientWidth + 1) {
        math.classList.add("course-wide-math");
      }
    }
  };
  let pending = null;
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  };
  // Once at once, once after the theme's opening transitions (up to 0.3 s) have ended.
  const afterOpening = () => {
    setTimeout(mark, 50);
    setTimeout(mark, 500);
  };
  window.addEventListener("load", () => {
    const startup = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (startup) startup.then(mark);
    window.addEventListener("resize", later);
    // A solution or dropdown opened by a click shows formulas that had no width before.
    document.addEventListener("click", afterOpening);
  });
})();
