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
  // The System section's zoom (charts/zoom.rs): each chart's lines, dots and other drawing at
  // a value (class ps-zoomable) moved by its `data-zoom` map (y' = k y + c, heights k h), its
  // value labels swapped with their `data-zoomed` text.
  var zoom = document.getElementById("ps-zoom");
  if (zoom) {
    zoom.checked = false;
    zoom.addEventListener("change", function () {
      var charts = document.querySelectorAll("svg.ps-chart[data-zoom]");
      Array.prototype.forEach.call(charts, function (svg) {
        var map = svg.getAttribute("data-zoom").split(" ").map(Number);
        var moved = function (name, v) {
          if (!zoom.checked) return v;
          return name === "height" ? map[0] * v : map[0] * v + map[1];
        };
        var drawn = svg.querySelectorAll("polyline.ps-line, circle, .ps-zoomable");
        Array.prototype.forEach.call(drawn, function (el) {
          ["points", "cy", "y", "y1", "y2", "height"].forEach(function (name) {
            if (!el.hasAttribute(name)) return;
            if (!el.hasAttribute("data-" + name)) el.setAttribute("data-" + name, el.getAttribute(name));
            var kept = el.getAttribute("data-" + name);
            if (name === "points") {
              var points = kept.split(" ").map(function (point) {
                var xy = point.split(",");
                return xy[0] + "," + moved("y", Number(xy[1])).toFixed(1);
              });
              el.setAttribute(name, points.join(" "));
            } else {
              el.setAttribute(name, moved(name, Number(kept)).toFixed(1));
            }
          });
        });
        Array.prototype.forEach.call(svg.querySelectorAll("text[data-zoomed]"), function (label) {
          var other = label.getAttribute("data-zoomed");
          label.setAttribute("data-zoomed", label.textContent);
          label.textContent = other;
        });
      });
    });
  }
})();
