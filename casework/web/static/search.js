// The header search box as an ARIA 1.2 combobox (list autocomplete): suggestions from the
// server as the user types, chosen with the arrow keys and Enter or the pointer. Without this
// script the same form opens the full results page, so nothing depends on it.
(function () {
  "use strict";
  var DELAY_MS = 250;

  function setUp(form) {
    var input = form.querySelector("input[name=q]");
    var listbox = form.querySelector("[role=listbox]");
    var status = form.querySelector(".search-status");
    if (!input || !listbox || !status) return;
    var url = form.dataset.suggestionsUrl;
    var timer = null;
    var pending = null;
    var options = [];
    var active = -1;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    // With nothing to choose, the message itself shows under the box ("nobody matches",
    // "write at least two letters"): the live region says it to screen readers either way.
    function showMessage(visible) {
      status.classList.toggle("search-status-shown", visible && !!status.textContent);
    }

    function close() {
      listbox.hidden = true;
      showMessage(false);
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!options.length) return;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      options.forEach(function (option, position) {
        option.setAttribute("aria-selected", position === index ? "true" : "false");
        option.classList.toggle("active", position === index);
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      window.location.assign(option.dataset.url);
    }

    function option(id, url, label, detail) {
      var item = document.createElement("li");
      item.id = id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.url = url;
      var strong = document.createElement("span");
      strong.className = "search-option-label";
      strong.textContent = label;
      item.appendChild(strong);
      if (detail) {
        var small = document.createElement("span");
        small.className = "search-option-detail";
        small.textContent = detail;
        item.appendChild(small);
      }
      // mousedown, not click: the input must not lose focus (and close the list) first.
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(item);
      });
      return item;
    }

    function show(answer, text) {
      listbox.textContent = "";
      options = [];
      (answer.items || []).forEach(function (found, index) {
        options.push(option(listbox.id + "-" + index, found.url, found.label, found.detail));
      });
      if (options.length) {
        var all = form.action + "?q=" + encodeURIComponent(text);
        options.push(option(listbox.id + "-all", all, form.dataset.allResults, ""));
        options[options.length - 1].classList.add("search-option-all");
      }
      options.forEach(function (item) { listbox.appendChild(item); });
      status.textContent = answer.message || "";
      active = -1;
      if (options.length) { showMessage(false); open(); } else { close(); showMessage(true); }
    }

    function ask() {
      var text = input.value.trim();
      if (pending) pending.abort();
      if (!text) {
        listbox.textContent = "";
        options = [];
        status.textContent = "";
        close();
        return;
      }
      pending = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" }, credentials: "same-origin", signal: pending.signal,
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        if (input.value.trim() === text) show(answer, text);
      }).catch(function (error) {
        if (error.name !== "AbortError") {
          status.textContent = form.dataset.failed;
          close();
          showMessage(true);
        }
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (listbox.hidden) { open(); if (options.length) highlight(0); return; }
        highlight(active + 1 < options.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (listbox.hidden) { open(); if (options.length) highlight(options.length - 1); return; }
        highlight(active > 0 ? active - 1 : options.length - 1);
      } else if (event.key === "Enter") {
        if (!listbox.hidden && active >= 0) {
          event.preventDefault();
          choose(options[active]);
        }
        // Otherwise the form is sent: the full results page.
      } else if (event.key === "Escape") {
        if (!listbox.hidden) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { close(); });
    input.addEventListener("focus", function () { if (options.length && input.value.trim()) open(); });
  }

  document.querySelectorAll("form.search-combobox").forEach(setUp);
})();
