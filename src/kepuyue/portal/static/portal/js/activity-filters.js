/* Progressive enhancement of the activity filters: when a province (or city) is chosen, fill the
   city (or county) list at once from /region/<code>/children.json. Without JavaScript the same
   lists appear after the form is submitted. */
(function () {
  "use strict";

  function clear(select) {
    while (select.options.length > 1) {
      select.remove(1);
    }
    select.value = "";
  }

  function fill(select, code) {
    clear(select);
    var next = select.dataset.children && document.getElementById(select.dataset.children);
    if (next) {
      clear(next);
    }
    if (!code) {
      return;
    }
    fetch("/region/" + encodeURIComponent(code) + "/children.json", { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { children: [] };
      })
      .then(function (data) {
        data.children.forEach(function (child) {
          select.add(new Option(child.name, child.code));
        });
      })
      .catch(function () {
        /* The form still works: the list fills after a submit. */
      });
  }

  /* Coming back through the history restores the page as it was left: fields usable again. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.filters [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    /* Shorter, shareable addresses: empty fields are left out of the query string. */
    document.querySelectorAll("form.filters").forEach(function (form) {
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(form.elements, function (field) {
          if (field.name && field.value === "" && field.type !== "submit") {
            field.disabled = true;
          }
        });
      });
    });
    document.querySelectorAll("select[data-children]").forEach(function (parent) {
      var child = document.getElementById(parent.dataset.children);
      if (!child) {
        return;
      }
      /* The "submit first" hints are for visitors without this script. */
      var hint = document.getElementById(child.id + "-hint");
      if (hint) {
        hint.hidden = true;
        child.removeAttribute("aria-describedby");
      }
      parent.addEventListener("change", function () {
        fill(child, parent.value);
      });
    });
  });
})();
