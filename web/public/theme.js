// Loaded before the app so a stored light/dark choice applies before first paint.
(function () {
  try {
    var theme = localStorage.getItem("pixhaven.theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage can be blocked; the system preference still applies.
  }
})();
