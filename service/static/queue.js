// The SLA clock: every 30 s, re-state the minutes left (or late) before the first action.
// The server already rendered the same text; this only keeps an open page honest.
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (cell) {
      var due = Date.parse(cell.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = Math.floor((due - now) / 60000);
      var text = left >= 0 ? "剩余 " + left + " 分钟" : "已超时 " + (-left) + " 分钟";
      var row = cell.closest("tr");
      if (row) {
        cell.textContent = text;
        row.classList.toggle("sla-overdue", left < 0);
      } else {
        cell.textContent = cell.textContent.replace(/（.*）$/, "（" + text + "）");
        cell.classList.toggle("sla-overdue", left < 0);
      }
    });
  }
  setInterval(tick, 30000);
})();
