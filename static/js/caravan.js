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
})();
