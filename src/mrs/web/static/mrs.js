// MRS pages work without this script; it only saves clicks. Loaded from /static (the
// Content-Security-Policy forbids inline script).
"use strict";

(function () {
  // A day picked from the calendar is shown at once. While a date is typed, every
  // finished segment changes the value (typing a month jumped to the wrong day), so a
  // typed date is sent with Enter or the button, and only when it is a whole date.
  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    var typing = false;
    input.addEventListener("focus", function () {
      typing = false;
    });
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== "Tab") {
        typing = true;
      }
    });
    input.addEventListener("change", function () {
      if (!typing && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(input.value) && input.form) {
        input.form.submit();
      }
    });
  });
  // The date form comes back to "#date": keep the focus where it was.
  if (window.location.hash === "#date") {
    var dateInput = document.getElementById("date");
    if (dateInput) {
      dateInput.focus();
    }
  }

  // Password rules, checked as you type. The server stays the authority (it also refuses
  // common passwords); this only shows early which rule is not met yet.
  document.querySelectorAll("ul[data-password-rules]").forEach(function (list) {
    var form = list.closest("form");
    if (!form) {
      return;
    }
    function field(name) {
      return name ? form.querySelector("[name='" + name + "']") : null;
    }
    var password = field(list.dataset.password);
    var confirm = field(list.dataset.confirm);
    var userIdField = field(list.dataset.userIdField);
    var emailField = field(list.dataset.emailField);
    var min = parseInt(list.dataset.min, 10);
    var max = parseInt(list.dataset.max, 10);
    if (!password) {
      return;
    }

    function value(input, fallback) {
      return (input ? input.value : fallback || "").trim().toLowerCase();
    }

    function results() {
      var text = password.value;
      var lowered = text.toLowerCase();
      var userId = value(userIdField, list.dataset.userId);
      var email = value(emailField, list.dataset.email);
      var local = email.split("@")[0];
      // Rules that cannot be judged yet (nothing typed) stay neutral.
      return {
        "length": text ? text.length >= min && text.length <= max : null,
        "no-user-id": text && userId ? !(userId.length >= 3 && lowered.indexOf(userId) >= 0) : null,
        "no-email": text && email ? !(lowered.indexOf(email) >= 0 ||
          (local.length >= 3 && lowered.indexOf(local) >= 0)) : null,
        "match": text && confirm && confirm.value ? confirm.value === text : null
      };
    }

    function show() {
      var state = results();
      list.querySelectorAll("li[data-rule]").forEach(function (item) {
        var met = state[item.dataset.rule];
        item.classList.toggle("met", met === true);
        item.classList.toggle("unmet", met === false);
        var label = item.querySelector("[data-rule-state]");
        if (label) {
          label.textContent = met === null ? "" :
            " " + (met ? list.dataset.textMet : list.dataset.textUnmet);
        }
      });
    }

    [password, confirm, userIdField, emailField].forEach(function (input) {
      if (input) {
        input.addEventListener("input", show);
      }
    });
    show();
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

  var invalidText = status ? status.dataset.textInvalid : "";

  function highlight() {
    var valid = start.value && end.value && end.value > start.value;
    picks.forEach(function (link) {
      var chosen = valid && link.dataset.start >= start.value && link.dataset.end <= end.value;
      link.closest("tr").classList.toggle("selected", Boolean(chosen));
      link.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    if (status) {
      // Never "15:00–14:00": an end before the start is said in words.
      status.textContent = valid ? start.value + "–" + end.value :
        (start.value && end.value ? invalidText : "");
    }
  }

  function pick(link) {
    if (start.value && end.value && link.dataset.start === end.value) {
      end.value = link.dataset.end;
    } else {
      start.value = link.dataset.start;
      end.value = link.dataset.end;
    }
    highlight();
  }

  picks.forEach(function (link) {
    link.setAttribute("role", "button");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      pick(link);
    });
    // A button answers Space as well as Enter (a link only Enter).
    link.addEventListener("keydown", function (event) {
      if (event.key === " " || event.key === "Spacebar") {
        event.preventDefault();
        pick(link);
      }
    });
  });
  start.addEventListener("change", function () {
    // A start at or after the end moves the end to the next time offered.
    if (start.value && (!end.value || end.value <= start.value)) {
      var later = Array.prototype.filter.call(end.options, function (option) {
        return option.value > start.value;
      });
      if (later.length) {
        end.value = later[0].value;
      }
    }
    highlight();
  });
  end.addEventListener("change", highlight);
  highlight();
})();
