(function () {
  "use strict";
  // The flame graph's script takes Ctrl-F and F3 for its own search; on this page they
  // belong to the browser's find, which searches the tables too. (Its Search button stays.)
  window.addEventListener("keydown", function (e) {
    if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) {
      e.stopImmediatePropagation();
    }
  }, true);
  function key(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) return numeric ? -Infinity : "";
    if (numeric) {
      var v = parseFloat(cell.getAttribute("data-v"));
      return isNaN(v) ? -Infinity : v;
    }
    return cell.textContent.toLowerCase();
  }
  var tables = document.querySelectorAll("table.ps-sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, col) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var current = th.getAttribute("aria-sort");
        var descending = current ? current === "ascending" : numeric;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, col, numeric);
          var y = key(b, col, numeric);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return descending ? -c : c;
        });
        Array.prototype.forEach.call(headers, function (h) {
          h.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        rows.forEach(function (r) {
          body.appendChild(r);
        });
      });
    });
  });
})();
