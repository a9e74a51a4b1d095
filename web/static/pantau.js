// Pantau: the little JavaScript the pages use. Everything works without it (forms have
// submit buttons); with it, facet checkboxes and the sort order apply at once.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("search-form");
  if (!form) return;
  var boxes = form.querySelectorAll("input.facet-box, select.autosubmit");
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      // A new filter starts again at page 1 (the page field is not part of the form).
      form.submit();
    });
  });
});
