// MathJax 3 configuration; the bundle itself (tex-svg-full.js) is served with the site
// (docs/_hooks/mathjax_local.py), so formulas render without network access.
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  svg: {fontCache: "global"},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
// Material for MkDocs swaps page content without reloading when instant navigation is on:
// typeset each new page. The first page is typeset by MathJax's own start-up.
if (typeof document$ !== "undefined") {
  let first = true;
  document$.subscribe(() => {
    if (first) {
      first = false;
      return;
    }
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
