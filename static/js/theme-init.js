// Applies the theme the visitor chose with the toggle before the page is first painted, so a
// dark-theme reader never sees a white flash. Loaded blocking in <head>; kept tiny on purpose.
// With no stored choice (or no storage) the page follows the system's prefers-color-scheme.
(function () {
  "use strict";
  try {
    var theme = window.localStorage.getItem("theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage refused (private mode, blocked cookies): the system setting applies.
  }
})();
