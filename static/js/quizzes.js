// The module test: a live count of answered questions, and a submit with gaps that marks every
// unanswered question and brings the first one into view, instead of the browser's own bubble
// (which pointed at one question, often behind the sticky Submit bar). Without this script the
// browser's `required` check and the server's answer (every gap marked) still apply.
(() => {
  "use strict";
  const GAP = "Not answered yet: choose one option.";

  const questions = (form) => Array.from(form.querySelectorAll("fieldset.question"));
  const isAnswered = (fieldset) => fieldset.querySelector("input[type=radio]:checked") !== null;
  const numberOf = (fieldset) => fieldset.dataset.number;

  function showCount(form) {
    const out = document.getElementById("answered-count");
    if (out) out.textContent = String(questions(form).filter(isAnswered).length);
  }

  function mark(fieldset, unanswered) {
    fieldset.classList.toggle("is-unanswered", unanswered);
    const noteId = `${fieldset.id}-error`;
    let note = document.getElementById(noteId);
    if (unanswered && !note) {
      note = document.createElement("p");
      note.id = noteId;
      note.className = "question-error";
      note.textContent = GAP;
      fieldset.append(note);
    } else if (!unanswered && note) {
      note.remove();
    }
    if (unanswered) {
      fieldset.setAttribute("aria-describedby", noteId);
    } else {
      fieldset.removeAttribute("aria-describedby");
    }
  }

  function sayGaps(gaps) {
    const status = document.getElementById("gap-status");
    if (!status) return;
    if (gaps.length === 0) {
      status.textContent = "";
      return;
    }
    const numbers = gaps.map(numberOf);
    const list =
      numbers.length === 1 ? numbers[0] : `${numbers.slice(0, -1).join(", ")} and ${numbers.at(-1)}`;
    status.textContent =
      `${numbers.length === 1 ? "Question" : "Questions"} ${list} ${numbers.length === 1 ? "is" : "are"} ` +
      "not answered yet. Choose an answer for each, then submit again.";
  }

  function init() {
    const form = document.getElementById("test-form");
    if (!form) return;
    form.noValidate = true; // this script checks for gaps itself
    showCount(form);

    form.addEventListener("change", (event) => {
      showCount(form);
      const fieldset = event.target.closest("fieldset.question");
      if (fieldset && isAnswered(fieldset) && fieldset.classList.contains("is-unanswered")) {
        mark(fieldset, false);
        sayGaps(questions(form).filter((q) => q.classList.contains("is-unanswered")));
      }
    });

    form.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.hasAttribute("formnovalidate")) return; // save for later
      const gaps = questions(form).filter((fieldset) => !isAnswered(fieldset));
      if (gaps.length === 0) return;
      event.preventDefault();
      questions(form).forEach((fieldset) => mark(fieldset, gaps.includes(fieldset)));
      sayGaps(gaps);
      gaps[0].scrollIntoView({ block: "start" });
      gaps[0].querySelector("input[type=radio]").focus({ preventScroll: true });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
