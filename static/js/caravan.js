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
