// The header's theme toggle: a pressed "Dark theme" button means the dark theme is on.
// The choice is stored in localStorage (theme-init.js applies it on the next page before paint);
// until the visitor chooses, the page follows the system's prefers-color-scheme, live.
(() => {
  "use strict";
  const root = document.documentElement;
  const system = window.matchMedia("(prefers-color-scheme: dark)");

  function current() {
    const chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") return chosen;
    return system.matches ? "dark" : "light";
  }

  function show(button) {
    button.setAttribute("aria-pressed", String(current() === "dark"));
  }

  function init() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    show(button);
    button.hidden = false; // without this script the system setting applies and no toggle shows
    button.addEventListener("click", () => {
      const next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem("theme", next);
      } catch (e) {
        // Not remembered, but the page still switches.
      }
      show(button);
    });
    system.addEventListener("change", () => show(button));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
