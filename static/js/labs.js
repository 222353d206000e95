// Lab chat: the few things hx-ws cannot do from attributes alone.
// - Enter sends, Shift+Enter makes a new line (the Send button works too).
// - "Use the suggested opener" puts the opener in the box.
// - Frames carry two flags: `busy` (the transcript's aria-busy) and `accepted` (the server
//   saved the message, so the box may be cleared). A refused message leaves the box as it was.
(() => {
  "use strict";

  function input() {
    return document.getElementById("chat-input");
  }

  document.addEventListener("keydown", (event) => {
    const box = input();
    if (event.target !== box || event.key !== "Enter" || event.shiftKey || event.isComposing) {
      return;
    }
    event.preventDefault();
    box.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("#use-opener");
    if (!button) return;
    const box = input();
    box.value = button.dataset.opener;
    box.focus();
  });

  document.addEventListener("htmx:ws:after:message:incoming", (event) => {
    let data;
    try {
      data = JSON.parse(event.detail.message.data);
    } catch (e) {
      return;
    }
    if (typeof data.busy === "boolean") {
      document.getElementById("transcript")?.setAttribute("aria-busy", String(data.busy));
    }
    const box = input();
    if (data.accepted && box) {
      box.value = "";
      const drill = document.getElementById("fault-drill");
      if (drill) drill.value = "none"; // a drill applies to one turn
    }
    if (box && (data.accepted || data.error)) box.focus();
    const log = document.getElementById("transcript");
    if (log) log.scrollTop = log.scrollHeight;
  });

  document.addEventListener("htmx:ws:close", () => {
    const status = document.getElementById("chat-status");
    if (status) status.textContent = "Connection lost; reconnecting…";
  });
  document.addEventListener("htmx:ws:after:connection", () => {
    const status = document.getElementById("chat-status");
    if (status && status.textContent.startsWith("Connection lost")) status.textContent = "";
  });
})();
