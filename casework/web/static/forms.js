// Forms on every page: a refused form takes the focus to its errors, long text fields count
// their characters, and a form sent once is not sent again by a second click.
// The pages work without it; the CSP allows no inline script, so this file does it all.
(function () {
  "use strict";

  var lang = (document.documentElement.lang || "it").slice(0, 2);
  var WORDS = {
    it: { characters: "caratteri" },
    en: { characters: "characters" }
  };
  var words = WORDS[lang] || WORDS.it;
  var number = new Intl.NumberFormat(lang === "en" ? "en-GB" : "it-IT");
  // The counter speaks only near the limit: every keystroke announced would drown the reader.
  var ANNOUNCE_FROM = 0.9;
  // A one-line field (a name, a phone) shows its counter only once half full: under every short
  // field from the start, counters would be noise.
  var SHOW_INPUT_FROM = 0.5;
  var RESUBMIT_AFTER_MS = 4000;

  function focusFirstError() {
    var target = document.querySelector("[data-error-summary]") ||
      document.querySelector("[aria-invalid=true]");
    if (!target) {
      return;
    }
    // A closed part of the page (a collapsed panel, a closed <details>) is opened first.
    var details = target.closest("details");
    if (details) {
      details.open = true;
    }
    target.focus({ preventScroll: false });
    if (target.scrollIntoView) {
      target.scrollIntoView({ block: "start" });
    }
  }

  function addCounter(field) {
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    if (!limit || limit <= 0 || !field.id) {
      return;
    }
    var counter = document.createElement("div");
    counter.id = field.id + "-counter";
    counter.className = "form-text character-counter";
    counter.setAttribute("aria-live", "off");
    field.insertAdjacentElement("afterend", counter);
    var isTextarea = field.tagName === "TEXTAREA";

    function describe(shown) {
      var described = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && id !== counter.id;
      });
      if (shown) {
        described.push(counter.id);
      }
      if (described.length) {
        field.setAttribute("aria-describedby", described.join(" "));
      } else {
        field.removeAttribute("aria-describedby");
      }
    }

    function update() {
      var used = field.value.length;
      counter.textContent = number.format(used) + " / " + number.format(limit) + " " + words.characters;
      var near = used >= limit * ANNOUNCE_FROM;
      var shown = isTextarea || used >= limit * SHOW_INPUT_FROM;
      counter.hidden = !shown;
      describe(shown);
      counter.setAttribute("aria-live", near ? "polite" : "off");
      counter.classList.toggle("text-danger", near);
    }

    field.addEventListener("input", update);
    update();
  }

  function guardAgainstDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter || form.querySelector("[type=submit]");
      if (!button || button.disabled) {
        return;
      }
      // Disabled after the browser has read the form, so the button's own name/value is still sent.
      window.setTimeout(function () {
        button.disabled = true;
        button.setAttribute("aria-disabled", "true");
      }, 0);
      window.setTimeout(function () {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
      }, RESUBMIT_AFTER_MS);
    });
  }

  function start() {
    Array.prototype.forEach.call(
      document.querySelectorAll("textarea[maxlength], input[maxlength]"), addCounter
    );
    Array.prototype.forEach.call(document.querySelectorAll("form[method=post], form[method=POST]"),
      guardAgainstDoubleSubmit);
    focusFirstError();
  }

  // Back to a page kept by the browser: its buttons must not stay disabled.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("[type=submit][aria-disabled=true]"), function (button) {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
      });
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
