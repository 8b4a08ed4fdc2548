/* Caravan: small progressive enhancements. Every page also works without them. */
(function () {
  "use strict";

  // A select marked data-autosubmit submits its form as a plain page load (language switch,
  // warehouse picker). Captured first so an htmx form around it does not also react.
  document.addEventListener(
    "change",
    function (event) {
      var el = event.target;
      if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
        event.stopPropagation();
        el.form.submit();
      }
    },
    true
  );

  function focusable(form) {
    return Array.prototype.filter.call(form.elements, function (f) {
      return (
        !f.disabled &&
        f.type !== "hidden" &&
        f.tagName !== "FIELDSET" &&
        f.tagName !== "BUTTON" &&
        f.tabIndex >= 0 &&
        f.offsetParent !== null
      );
    });
  }

  // Enter in a field marked data-enter-next moves on to the next field instead of submitting:
  // a keyboard-wedge scanner ends each barcode with Enter. Enter in other fields submits.
  // Enter that confirms an input-method (IME) composition is left alone.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
    var el = event.target;
    if (!el.matches || !el.matches("[data-enter-next]") || !el.form) return;
    event.preventDefault();
    if (!el.value) return;
    var fields = focusable(el.form);
    var next = fields[fields.indexOf(el) + 1];
    if (next) {
      next.focus();
      if (typeof next.select === "function" && next.tagName === "INPUT") next.select();
    } else {
      el.form.requestSubmit();
    }
  });
  // Enter in a field marked data-enter-clicks="ID" presses that button (a bulk action's note
  // field sends its own action, never the form's first button).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
    var el = event.target;
    if (!el.matches || !el.matches("[data-enter-clicks]") || !el.form) return;
    var button = document.getElementById(el.getAttribute("data-enter-clicks"));
    if (!button) return;
    event.preventDefault();
    el.form.requestSubmit(button);
  });

  // A header checkbox data-check-all="NAME" ticks every checkbox NAME of its form.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el.matches || !el.matches("input[data-check-all]") || !el.form) return;
    var name = el.getAttribute("data-check-all");
    Array.prototype.forEach.call(el.form.elements, function (box) {
      if (box.type === "checkbox" && box.name === name) box.checked = el.checked;
    });
  });

  // Fields marked data-show-for="FIELD=VALUE" show only while the select FIELD has VALUE
  // (a review rule's hold reason, warehouse or tag). Without script every field shows.
  function showFor(form) {
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      var rule = el.getAttribute("data-show-for").split("=");
      var select = form.elements[rule[0]];
      var box = el.closest(".field") || el;
      box.hidden = Boolean(select) && select.value !== rule[1];
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.querySelector("[data-show-for]")) showFor(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-show-for]")) showFor(form);
    });
  });
})();

// A scan form (data-scan-form, e.g. a manifest's) sends each scan with htmx and empties its field
// at once, so the next label can be scanned while the last one is on its way; scans go one
// after another, in the order they were made. data-target names what the answer replaces;
// the answer also fills the form's live region. Without htmx the form posts as a page load.
(function () {
  "use strict";
  var queue = typeof Promise !== "undefined" ? Promise.resolve() : null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-scan-form]") || !window.htmx || !queue) return;
    event.preventDefault();
    var field = form.elements.code;
    var code = field.value.trim();
    field.value = "";
    field.focus();
    if (!code) return;
    var token = form.elements.csrfmiddlewaretoken;
    var values = { code: code };
    if (token) values.csrfmiddlewaretoken = token.value;
    var send = function () {
      return window.htmx.ajax("POST", form.action, {
        target: form.getAttribute("data-target"),
        swap: "outerHTML",
        values: values,
      });
    };
    var failed = function () {
      var region = document.getElementById("scan-result");
      if (region) {
        region.innerHTML = "";
        var box = document.createElement("div");
        box.className = "scan-message bad";
        box.textContent = "✗ " + code + ": " + (form.getAttribute("data-error-text") || "not sent");
        region.appendChild(box);
      }
    };
    queue = queue.then(send).catch(failed);
  });
})();

// The pack station (data-pack-station): a tone and a flash of colour for each answer (high
// for a good scan, a chord for a shipped parcel, a low buzz for a refusal), the focus kept
// on the field that takes the next scan (the weight once every unit is in), Escape to set the
// open parcel aside, and the label printed when a parcel ships without one.
(function () {
  "use strict";
  var audio = null;
  var SOUNDS = {
    ok: { notes: [1047], length: 0.07, wave: "sine" },
    done: { notes: [784, 1047, 1319], length: 0.09, wave: "sine" },
    bad: { notes: [196, 147], length: 0.24, wave: "square" },
  };

  function play(kind) {
    var sound = SOUNDS[kind];
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!sound || !Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var start = audio.currentTime;
      sound.notes.forEach(function (frequency, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        var at = start + i * sound.length;
        osc.type = sound.wave;
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.18, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + sound.length);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(at);
        osc.stop(at + sound.length);
      });
    } catch (e) {
      // no sound card, or the browser refused: the colours still tell
    }
  }

  function station() {
    return document.querySelector("[data-pack-station]");
  }

  function settle(root) {
    var box = station();
    if (!box) return;
    var outcome = root.querySelector("[data-pack-outcome]");
    if (outcome) {
      var kind = outcome.getAttribute("data-pack-outcome");
      play(kind);
      box.classList.remove("flash-ok", "flash-bad", "flash-done");
      void box.offsetWidth; // restart the animation
      if (kind !== "info") box.classList.add("flash-" + kind);
    }
    // The weight field is focused with its estimate selected (typing replaces it). The scan
    // field is only focused: the scanner may already be typing the next code into it, and
    // selecting that text would let the next character overwrite it.
    var weight = root.querySelector("[data-pack-focus]");
    var field = document.getElementById("pack-code");
    if (weight) {
      weight.focus();
      weight.select();
    } else if (field && document.activeElement !== field) {
      field.focus();
    }
    var print = root.querySelector("iframe[data-pack-print]");
    if (print) {
      print.addEventListener("load", function () {
        try {
          print.contentWindow.print();
        } catch (e) {
          // the link beside it opens the label
        }
        var scan = document.getElementById("pack-code");
        if (scan && !document.querySelector("[data-pack-focus]")) scan.focus();
      });
    }
  }

  // Every swap on the station replaces #pack-state (outerHTML): settle the new one.
  document.addEventListener("htmx:afterSettle", function () {
    var state = document.getElementById("pack-state");
    if (station() && state) settle(state);
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (station()) settle(document);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.isComposing || !station() || !window.htmx) return;
    var state = document.getElementById("pack-state");
    var url = state && state.getAttribute("data-aside-url");
    if (!url) return;
    event.preventDefault();
    var token = document.querySelector("form[data-scan-form] [name=csrfmiddlewaretoken]");
    window.htmx.ajax("POST", url, {
      target: "#pack-state",
      swap: "outerHTML",
      values: token ? { csrfmiddlewaretoken: token.value } : {},
    });
  });
})();
