// Oggi's quick actions in a dialog: each link opens its form in the page's modal, aimed at
// the link's pact; without this script the link opens the same form on a page of its own.
(function () {
  "use strict";
  if (typeof bootstrap === "undefined") {
    return;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-today-dialog]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button > 0) {
      return;
    }
    var dialog = document.getElementById(link.getAttribute("data-today-dialog"));
    if (!dialog) {
      return;
    }
    event.preventDefault();
    var form = dialog.querySelector("form[data-today-form]");
    form.setAttribute("action", link.getAttribute("href"));
    dialog.querySelector("[data-today-person]").textContent = link.getAttribute("data-person") || "";
    dialog.querySelector("[data-today-detail]").textContent = link.getAttribute("data-detail") || "";
    var rule = form.querySelector("input[name='snooze-rule_id']");
    if (rule) {
      rule.value = link.getAttribute("data-rule") || "";
    }
    var modal = bootstrap.Modal.getOrCreateInstance(dialog);
    dialog.addEventListener("shown.bs.modal", function () {
      var first = form.querySelector("input:not([type=hidden]), select, textarea");
      // Unless the person already moved on inside the dialog while it was appearing.
      var inside = dialog.contains(document.activeElement) && document.activeElement !== dialog;
      if (first && !inside) {
        first.focus();
      }
    }, { once: true });
    // Back on the link that opened it when the dialog closes, not at the top of the page.
    dialog.addEventListener("hidden.bs.modal", function () {
      link.focus();
    }, { once: true });
    modal.show(link);
  });
  // One submission per dialog: a second press while the first is on its way adds nothing.
  document.querySelectorAll("form[data-today-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
    });
  });
})();
