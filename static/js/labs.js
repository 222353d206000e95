// Lab chat: the few things hx-ws cannot do from attributes alone.
// - Enter sends, Shift+Enter makes a new line (the Send button works too).
// - "Use the suggested opener" puts the opener in the box.
// - Frames carry two flags: `busy` (the transcript's aria-busy) and `accepted` (the server
//   saved the message, so the box may be cleared). A refused message leaves the box as it was.
// - Scrolling as in a chat app: the transcript opens at the latest message and follows new
//   text only while the reader is at its bottom; scrolled up, the view stays put and
//   "Jump to latest" appears instead.
// - The fault drill's description follows the chosen drill.
// - A message over the length limit is refused here, before it is sent, with the server's
//   sentence: a frame that large would only make the server close the socket.
// - When the socket closes, the status line says why; "reconnecting" only when hx-ws does.
// - While the coach replies, Send becomes Stop, and Enter does not send (it says why).
// - A reply's timeline is as wide as the reply: where that is narrow, a bar's word that would
//   spill out of its bar, or a tick label that would run into the one before, is hidden (the
//   numbered sentences under the chart say everything it shows).
(() => {
  "use strict";

  // Close codes: the server refused a frame too large to read (4009, labs/inbound.py); the
  // session that opened the socket logged out (4401, course/sockets.py). hx-ws does not
  // reconnect after either.
  const CLOSED_BECAUSE = {
    4009: "That message was too long to send, so the chat was disconnected. " +
      "Shorten it, then reload the page to send it: your text is still in the box.",
    4401: "You have logged out, so the chat is closed. Log in again to keep chatting.",
  };
  // The codes hx-ws reconnects after (its `reconnectCodes`).
  const RECONNECTS = [1001, 1005, 1006, 1011, 1012, 1013, 1014];

  // How close to the bottom (in pixels) still counts as "at the bottom".
  const NEAR_BOTTOM = 48;
  let following = true;
  let seenHeight = 0; // the transcript's height when the reader last saw its bottom

  function input() {
    return document.getElementById("chat-input");
  }

  function showAlert(text) {
    const alert = document.getElementById("chat-alert");
    if (!alert) return;
    const line = document.createElement("p");
    line.className = "alert-text";
    line.textContent = text;
    alert.replaceChildren(line);
  }

  function setStatus(text) {
    const status = document.getElementById("chat-status");
    if (status) status.textContent = text;
  }

  function busy() {
    return transcript()?.getAttribute("aria-busy") === "true";
  }

  // Send while no reply runs, Stop while one does (the server says which, frame by frame).
  function showBusy(isBusy) {
    transcript()?.setAttribute("aria-busy", String(isBusy));
    const send = document.getElementById("chat-send");
    const stop = document.getElementById("chat-stop");
    if (!send || !stop) return;
    const focused = document.activeElement === send || document.activeElement === stop;
    send.hidden = isBusy;
    stop.hidden = !isBusy;
    if (focused) (isBusy ? stop : send).focus();
  }

  function transcript() {
    return document.getElementById("transcript");
  }

  function atBottom(log) {
    return log.scrollHeight - log.scrollTop - log.clientHeight <= NEAR_BOTTOM;
  }

  function jumpButton() {
    return document.getElementById("jump-latest");
  }

  function toLatest() {
    const log = transcript();
    if (!log) return;
    log.scrollTop = log.scrollHeight;
    following = true;
    seenHeight = log.scrollHeight;
    const jump = jumpButton();
    if (jump) jump.hidden = true;
  }

  function opened() {
    toLatest();
    const drill = document.getElementById("fault-drill");
    if (drill) describeDrill(drill);
  }

  function describeDrill(select) {
    const about = document.getElementById("fault-drill-about");
    const option = select.selectedOptions[0];
    if (about && option && option.dataset.about) about.textContent = option.dataset.about;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", opened);
  } else {
    opened();
  }

  // Only the reader moves `following`: a scroll that leaves the bottom stops it, one that
  // reaches the bottom starts it again.
  document.addEventListener(
    "scroll",
    (event) => {
      const log = transcript();
      if (event.target !== log) return;
      following = atBottom(log);
      if (!following) return;
      seenHeight = log.scrollHeight;
      const jump = jumpButton();
      if (jump) jump.hidden = true;
    },
    true,
  );

  document.addEventListener("keydown", (event) => {
    const box = input();
    if (event.target !== box || event.key !== "Enter" || event.shiftKey || event.isComposing) {
      return;
    }
    event.preventDefault();
    if (busy()) {
      const status = document.getElementById("chat-status");
      setStatus("The coach is still replying: wait for it, or press Stop.");
      return;
    }
    box.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("#jump-latest")) {
      toLatest();
      return;
    }
    const button = event.target.closest("#use-opener");
    if (!button) return;
    const box = input();
    box.value = button.dataset.opener;
    box.focus();
  });

  const TICK_GAP = 6; // px between two tick labels
  const BAR_PADDING = 8; // px: the word starts 4 px into its bar (dx), and keeps 4 at its end

  function fitTimeline(chart) {
    for (const word of chart.querySelectorAll(".tl-bar-text")) {
      const bar = word.parentElement.querySelector("rect");
      const spills = word.getComputedTextLength() + BAR_PADDING > bar.getBBox().width;
      word.classList.toggle("tl-unfit", spills);
    }
    let right = -Infinity;
    for (const label of chart.querySelectorAll(".tl-tick-label")) {
      const box = label.getBBox();
      const fits = box.x >= right + TICK_GAP;
      label.classList.toggle("tl-unfit", !fits);
      if (fits) right = box.x + box.width;
    }
  }

  // A closed "Under the hood" has no layout to measure: fit a timeline when it opens.
  document.addEventListener(
    "toggle",
    (event) => {
      if (event.target.open) event.target.querySelectorAll(".timeline-chart").forEach(fitTimeline);
    },
    true,
  );
  window.addEventListener("resize", () => {
    document.querySelectorAll("details[open] .timeline-chart").forEach(fitTimeline);
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "fault-drill") describeDrill(event.target);
  });

  document.addEventListener("htmx:ws:after:message:incoming", (event) => {
    let data;
    try {
      data = JSON.parse(event.detail.message.data);
    } catch (e) {
      return;
    }
    if (typeof data.busy === "boolean") showBusy(data.busy);
    const box = input();
    if (data.accepted && box) {
      box.value = "";
      const drill = document.getElementById("fault-drill");
      if (drill) {
        drill.value = "none"; // a drill applies to one turn
        describeDrill(drill);
      }
    }
    if (box && (data.accepted || data.error)) box.focus();
    if (data.accepted || following) {
      toLatest(); // the learner's own message, or a reader who is following the reply
    } else if ((transcript()?.scrollHeight ?? 0) > seenHeight) {
      const jump = jumpButton();
      if (jump) jump.hidden = false; // there is more below than the reader has seen
    }
  });

  document.addEventListener("htmx:ws:before:message:outgoing", (event) => {
    const form = document.getElementById("chat-form");
    const limit = Number(form?.dataset.maxChars);
    const text = event.detail.message.values.message;
    if (!limit || typeof text !== "string") return;
    const length = [...text].length; // characters, as the server counts them
    if (length <= limit) return;
    event.detail.cancelled = true;
    showAlert(
      `That message is ${length.toLocaleString("en-US")} characters long; the limit is ` +
        `${limit.toLocaleString("en-US")}. Shorten it and send it again: your text is still in the box.`,
    );
    input()?.focus();
  });

  document.addEventListener("htmx:ws:close", (event) => {
    const code = event.detail.code;
    if (code in CLOSED_BECAUSE) {
      setStatus(CLOSED_BECAUSE[code]);
    } else if (RECONNECTS.includes(code)) {
      setStatus("Connection lost; reconnecting…");
    } else if (event.detail.reason === "closed") {
      setStatus("The chat is disconnected. Reload the page to reconnect.");
    }
  });
  document.addEventListener("htmx:ws:after:connection", () => {
    const status = document.getElementById("chat-status");
    if (status && status.textContent.startsWith("Connection lost")) setStatus("");
  });
})();
