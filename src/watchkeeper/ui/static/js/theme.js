// Runs before first paint (not a module) so a saved light/dark choice never flashes the other theme.
(function () {
  try {
    var t = localStorage.getItem("wk.theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) { /* storage disabled: follow prefers-color-scheme */ }
})();
