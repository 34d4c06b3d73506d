/* The pact workspace, better with JavaScript: one part of the pact shown at a time (the one
   the address names, else the current stage's work), the workflow diagram scrolled to the
   current stage, a form opened when the address points at it. Without this file every part
   is on the page, one under the other, reached by the same anchors. */
(function () {
  "use strict";
  var workspace = document.querySelector("[data-workspace]");
  if (!workspace) { return; }
  var parts = Array.prototype.slice.call(workspace.querySelectorAll(".workspace-part"));
  var links = Array.prototype.slice.call(workspace.querySelectorAll("[data-part-link]"));
  var header = document.getElementById("workspace-header");

  function partOf(id) {
    var target = id ? document.getElementById(id) : null;
    if (!target) { return null; }
    return target.closest(".workspace-part");
  }

  function centreCurrentStage(part) {
    var box = part.querySelector("[data-workflow-box]");
    var current = box && box.querySelector(".state.current");
    if (!current) { return; }
    var boxRect = box.getBoundingClientRect();
    var stageRect = current.getBoundingClientRect();
    box.scrollLeft += stageRect.left - boxRect.left - (box.clientWidth - stageRect.width) / 2;
    box.scrollTop += stageRect.top - boxRect.top - (box.clientHeight - stageRect.height) / 2;
  }

  function show(id, moveFocus) {
    var part = partOf(id) || partOf(workspace.getAttribute("data-open-part")) || parts[0];
    parts.forEach(function (each) { each.hidden = each !== part; });
    links.forEach(function (link) {
      if (link.getAttribute("data-part-link") === part.id) { link.setAttribute("aria-current", "true"); }
      else { link.removeAttribute("aria-current"); }
    });
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; }
    centreCurrentStage(part);
    var summary = part.querySelector("[data-error-summary]");
    if (target && target.matches("input, select, textarea, button")) {
      target.focus();  // a link of an error summary: straight to the field
    } else if (summary && (document.activeElement === document.body || document.activeElement === null)) {
      summary.focus();
    } else if (moveFocus) {
      var heading = part.querySelector("h2");
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
      var top = workspace.querySelector(".workspace-body").getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, Math.max(0, top - (header && getComputedStyle(header).position === "sticky" ? header.offsetHeight : 0) - 8));
    }
  }

  workspace.classList.add("workspace-js");
  links.forEach(function (link) {
    link.addEventListener("click", function (event) {
      // The same link twice gives no hashchange: show the part here, keep the address in step.
      event.preventDefault();
      var id = link.getAttribute("data-part-link");
      if (window.location.hash !== "#" + id) { history.pushState(null, "", "#" + id); }
      show(id, true);
    });
  });
  window.addEventListener("hashchange", function () { show(window.location.hash.slice(1), true); });
  window.addEventListener("popstate", function () { show(window.location.hash.slice(1), false); });
  show(window.location.hash.slice(1), false);
  if (header) {
    document.documentElement.style.setProperty("--workspace-header-height", header.offsetHeight + "px");
  }
})();
