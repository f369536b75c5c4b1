/* The campaign form shows only what applies: [data-show-when="channel:sms"] while the select
 * named "channel" has that value, [data-show-when="ab_test"] while that checkbox is ticked.
 * Hidden parts keep their values; the server checks everything again on save.
 */
(function () {
  "use strict";

  function applies(form, rule) {
    var parts = rule.split(":");
    var input = form.querySelector('[name="' + parts[0] + '"]');
    if (!input) return true;
    if (input.type === "checkbox") return input.checked;
    return parts.slice(1).indexOf(input.value) >= 0;
  }

  function refresh(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (node) {
      node.hidden = !node.getAttribute("data-show-when").split(" ").every(function (rule) {
        return applies(form, rule);
      });
    });
  }

  function init() {
    document.querySelectorAll("form[data-campaign-form]").forEach(function (form) {
      form.addEventListener("change", function () { refresh(form); });
      refresh(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
