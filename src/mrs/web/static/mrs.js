// MRS pages work without this script; it only saves clicks. Loaded from /static (the
// Content-Security-Policy forbids inline script).
"use strict";

(function () {
  // A date picker shows the chosen day at once.
  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.value && input.form) {
        input.form.submit();
      }
    });
  });

  // Picking free slots fills the reservation form: the first pick selects one slot, a
  // later free slot right after the selection extends it, anything else starts again.
  var form = document.querySelector("form[data-reserve-form]");
  var table = document.querySelector("[data-slot-table]");
  if (!form || !table) {
    return;
  }
  var start = form.querySelector("select[name=start_time]");
  var end = form.querySelector("select[name=end_time]");
  var status = form.querySelector("[data-selection]");
  var picks = Array.prototype.slice.call(table.querySelectorAll("a.slot-pick"));

  function highlight() {
    picks.forEach(function (link) {
      var chosen = start.value && end.value &&
        link.dataset.start >= start.value && link.dataset.end <= end.value;
      link.closest("tr").classList.toggle("selected", Boolean(chosen));
      link.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    if (status) {
      status.textContent = start.value && end.value ? start.value + "–" + end.value : "";
    }
  }

  picks.forEach(function (link) {
    link.setAttribute("role", "button");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (start.value && end.value && link.dataset.start === end.value) {
        end.value = link.dataset.end;
      } else {
        start.value = link.dataset.start;
        end.value = link.dataset.end;
      }
      highlight();
    });
  });
  start.addEventListener("change", highlight);
  end.addEventListener("change", highlight);
  highlight();
})();
