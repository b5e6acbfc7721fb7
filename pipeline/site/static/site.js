// Progressive enhancement only: every table and quote is complete without this script.
// Sorts tables marked .sortable, filters the event index, and points the Datasette Lite link at this site's copy of the database.
"use strict";
(function () {
  function cellValue(row, index, type) {
    const cell = row.cells[index];
    const raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    return type === "number" ? parseFloat(raw) || -1 : raw.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    const headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const type = th.getAttribute("data-type");
        const body = table.tBodies[0];
        const rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          const x = cellValue(a, index, type), y = cellValue(b, index, type);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  const form = document.getElementById("event-filters");
  const table = document.getElementById("event-table");
  if (form && table) {
    form.hidden = false;
    const apply = function () {
      const scope = form.elements.scope.value, decade = form.elements.decade.value;
      let shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        const visible = (!scope || row.dataset.scope === scope) && (!decade || row.dataset.decade === decade);
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      form.elements.shown.value = shown + " of " + table.tBodies[0].rows.length + " events shown";
    };
    form.addEventListener("change", apply);
    apply();
  }
  const lite = document.getElementById("datasette-lite");
  if (lite && lite.getAttribute("href") === "https://lite.datasette.io/" && /^https?:$/.test(location.protocol)) {
    const database = new URL(lite.getAttribute("data-sqlite"), location.href).href;
    lite.href = "https://lite.datasette.io/?url=" + encodeURIComponent(database);
  }
}());
