// pluralign participant page helpers: keyboard shortcuts for voting (A agree, D disagree,
// P pass). Pages work without this file; it only adds shortcuts.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var key = (event.key || "").toLowerCase();
    var button = document.querySelector('#card button[data-key="' + key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
  // After htmx swaps in a new statement, move focus to it so screen readers announce it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var text = document.getElementById("statement-text");
    if (text) text.focus();
  });
})();
