// Collects console errors and uncaught exceptions into #console-errors (the browser
// test reads it). Loaded first, before anything else can fail.
(function () {
  var errors = [];
  function show() {
    var el = document.getElementById("console-errors");
    if (el) {
      el.textContent = errors.join("\n");
      el.setAttribute("data-count", String(errors.length));
    }
  }
  function record(msg) {
    errors.push(String(msg));
    show();
  }
  window.addEventListener("error", function (e) {
    record("error: " + (e.message || e) + (e.filename ? " at " + e.filename + ":" + e.lineno : ""));
  });
  window.addEventListener("unhandledrejection", function (e) {
    record("unhandled rejection: " + e.reason);
  });
  var original = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", show);
})();
