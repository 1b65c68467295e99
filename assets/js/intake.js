// Fast intake: the kind stays chosen between items, so the cursor waits in the mass field
// for the scale; the data-bearing "auto" choice says what the kind's default is.
(function () {
  var kind = document.getElementById("kind");
  var mass = document.getElementById("mass");
  if (!kind || !mass) return;
  if (kind.value) mass.focus();
  kind.addEventListener("change", function () {
    if (kind.value) mass.focus();
  });
})();
