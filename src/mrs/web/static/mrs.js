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

  // Repeat options: only the groups that apply to the chosen repeat are shown (without
  // this script every group is there, and the server reads only those that apply).
  document.querySelectorAll("[data-repeat]").forEach(function (box) {
    var choice = box.querySelector("[data-repeat-choice]");
    var form = box.closest("form");
    if (!choice || !form) {
      return;
    }
    function show() {
      var kind = choice.value;
      box.querySelectorAll("[data-repeat-details]").forEach(function (part) {
        part.hidden = !kind;
      });
      box.querySelectorAll("[data-repeat-for]").forEach(function (part) {
        part.hidden = part.dataset.repeatFor !== kind;
      });
      form.querySelectorAll("[data-repeat-only]").forEach(function (part) {
        part.hidden = !kind;
      });
    }
    choice.addEventListener("change", show);
    show();
  });
  // A preview comes back to "#preview": take the focus there, so its dates are read next.
  if (window.location.hash === "#preview" || document.querySelector("[data-focus-preview]")) {
    var preview = document.getElementById("preview");
    if (preview) {
      preview.focus();
    }
  }

  // Attendees: suggestions from /api/users/lookup as you type (the ARIA combobox
  // pattern with a list box). Without this script the field takes user ids separated by
  // commas; with it, choosing a suggestion writes its user id in place of what was typed.
  document.querySelectorAll("input[data-user-lookup]").forEach(function (input) {
    var list = document.getElementById(input.id + "-suggestions");
    var status = input.parentNode.querySelector("[data-lookup-status]");
    if (!list) {
      return;
    }
    var timer = null;
    var asked = "";
    var active = -1;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function options() {
      return Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    }

    function typed() {
      // What is being typed: the text after the last separator.
      var parts = input.value.split(/[,\u3001\uff0c]/);
      return parts[parts.length - 1].trim();
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function mark(index) {
      var all = options();
      active = index;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      var parts = input.value.split(/[,\u3001\uff0c]/);
      parts[parts.length - 1] = option.dataset.userId;
      input.value = parts.map(function (part) {
        return part.trim();
      }).filter(function (part) {
        return part;
      }).join(", ") + ", ";
      close();
      input.focus();
    }

    function show(users) {
      list.textContent = "";
      users.forEach(function (user, i) {
        var option = document.createElement("li");
        option.id = input.id + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.userId = user.user_id;
        option.textContent = user.display_name + " (" + user.user_id + ")";
        // mousedown, not click: the input keeps the focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(option);
        });
        list.appendChild(option);
      });
      list.hidden = users.length === 0;
      input.setAttribute("aria-expanded", users.length ? "true" : "false");
      active = -1;
      if (status) {
        status.textContent = users.length ?
          status.dataset.textSome.replace("{count}", String(users.length)) :
          status.dataset.textNone;
      }
    }

    function lookup() {
      var query = typed();
      if (!query || query.length > 100) {
        asked = "";
        close();
        return;
      }
      if (query === asked) {
        return;
      }
      asked = query;
      fetch(input.dataset.userLookup + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : [];
      }).then(function (users) {
        // An answer to an older question is dropped.
        if (query === typed()) {
          show(Array.isArray(users) ? users : []);
        }
      }).catch(function () {
        close();  // the plain field still works
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 200);
    });
    input.addEventListener("keydown", function (event) {
      var all = options();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden || !all.length) {
          asked = "";
          lookup();
          return;
        }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        mark((active + step + all.length) % all.length);
      } else if (event.key === "Enter" && !list.hidden && active >= 0 && all[active]) {
        event.preventDefault();  // choosing, not sending the form
        choose(all[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
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

  var submit = form.querySelector("button[type=submit]");
  var phone = window.matchMedia("(max-width: 48rem)");

  function pick(link) {
    if (start.value && end.value && link.dataset.start === end.value) {
      end.value = link.dataset.end;
    } else {
      start.value = link.dataset.start;
      end.value = link.dataset.end;
    }
    highlight();
    // On a phone the form sits below the slots: bring its button into sight once a slot
    // is picked, so the booking is one tap away.
    if (submit && phone.matches) {
      var box = submit.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) {
        submit.scrollIntoView({ block: "end" });
      }
    }
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
