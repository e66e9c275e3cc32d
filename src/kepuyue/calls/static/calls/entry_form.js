// The CityWalk form on a phone (issue 11 point 3): cascading 省 → 市 → 县 selects fed by the small JSON
// endpoint /regions/<code>/children.json (cached by the browser), and stop blocks added or removed here, so the
// HTML never carries thousands of county options. Without JavaScript the form still posts; the server lists
// the chosen branches after each post.
(function () {
  "use strict";
  var form = document.querySelector("form[data-regions-url]");
  if (!form) return;
  var base = form.dataset.regionsUrl.replace(/children\.json$/, "");
  var cache = {};

  function children(code) {
    if (!cache[code]) {
      cache[code] = fetch(base + code + "/children.json", { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : [];
      });
    }
    return cache[code];
  }

  function fill(select, rows) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = row[0];
      option.textContent = row[1];
      select.appendChild(option);
    });
    select.value = "";
  }

  function wire(group) {
    var selects = Array.prototype.slice.call(group.querySelectorAll("select[data-level]"));
    selects.forEach(function (select, index) {
      var next = selects[index + 1];
      if (!next) return;
      select.addEventListener("change", function () {
        selects.slice(index + 1).forEach(function (s) { fill(s, []); });
        if (select.value) children(select.value).then(function (rows) { fill(next, rows); });
      });
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("[data-cascade]"), wire);

  var stops = document.getElementById("stops");
  var template = document.getElementById("stop-template");
  var add = form.querySelector("[data-add-stop]");
  var remove = form.querySelector("[data-remove-stop]");
  var max = parseInt(form.dataset.maxStops, 10) || 12;
  if (!stops || !template || !add || !remove) return;

  function blocks() { return stops.querySelectorAll(".stop"); }
  function refresh() {
    add.hidden = blocks().length >= max;
    remove.hidden = blocks().length <= 1;
  }
  add.addEventListener("click", function () {
    var i = blocks().length;
    var html = template.innerHTML.replace(/__i__/g, String(i)).replace(/__n__/g, String(i + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var block = holder.firstElementChild;
    var radio = block.querySelector("input[type=radio]");
    if (radio) radio.checked = false;
    add.parentNode.parentNode.insertBefore(block, add.parentNode);
    wire(block.querySelector("[data-cascade]"));
    block.querySelector("input[type=text]").focus();
    refresh();
  });
  remove.addEventListener("click", function () {
    var all = blocks();
    if (all.length > 1) all[all.length - 1].remove();
    refresh();
  });
  refresh();
})();
