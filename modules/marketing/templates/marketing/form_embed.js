/* Peyvand lead form: renders into <div data-peyvand-form="KEY"> and posts to the hosted form. */
(function () {
  "use strict";
  var C = {{ config }};
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  function utm() {
    var params = new URLSearchParams(window.location.search), found = {};
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (k) {
      if (params.get(k)) { found[k] = params.get(k); }
    });
    return found;
  }
  function render(box) {
    var form = el("form", {"class": "peyvand-form", "novalidate": "novalidate"});
    if (C.title) { form.appendChild(el("h3", {"class": "peyvand-form-title"}, C.title)); }
    if (C.intro) { form.appendChild(el("p", {"class": "peyvand-form-intro"}, C.intro)); }
    C.fields.forEach(function (f) {
      var id = "peyvand-" + C.key + "-" + f.name, row = el("p", {"class": "peyvand-form-row"});
      row.appendChild(el("label", {"for": id}, f.label + (f.required ? " *" : "")));
      var input = el(f.name === "message" ? "textarea" : "input", {id: id, name: f.name});
      if (f.name !== "message") {
        input.setAttribute("type", f.name === "email" ? "email" : f.name === "mobile" ? "tel" : "text");
      }
      if (f.required) { input.setAttribute("required", "required"); }
      row.appendChild(input);
      row.appendChild(el("span", {"class": "peyvand-form-error", "data-error-for": f.name}));
      form.appendChild(row);
    });
    var trap = el("p", {"aria-hidden": "true", "hidden": "hidden"});
    trap.appendChild(el("input", {name: C.honeypot, tabindex: "-1", autocomplete: "off"}));
    form.appendChild(trap);
    if (C.consent) {
      var consent = el("p", {"class": "peyvand-form-consent"}), label = el("label", {});
      label.appendChild(el("input", {type: "checkbox", name: "consent", value: "1"}));
      label.appendChild(document.createTextNode(" " + C.consent));
      consent.appendChild(label);
      form.appendChild(consent);
    }
    var button = el("button", {type: "submit"}, C.send), status = el("p", {"class": "peyvand-form-status", role: "status"});
    form.appendChild(button);
    form.appendChild(status);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form), extra = utm();
      data.append(C.tokenField, C.token);
      data.append("page_url", window.location.href);
      Object.keys(extra).forEach(function (k) { data.append(k, extra[k]); });
      form.querySelectorAll("[data-error-for]").forEach(function (s) { s.textContent = ""; });
      button.disabled = true;
      status.textContent = C.sending;
      fetch(C.action, {method: "POST", body: data, mode: "cors", credentials: "omit",
                       headers: {"Accept": "application/json"}})
        .then(function (res) { return res.json(); })
        .then(function (body) {
          button.disabled = false;
          status.textContent = body.message;
          if (body.ok) {
            box.replaceChildren(el("p", {"class": "peyvand-form-thanks"}, body.message));
            return;
          }
          Object.keys(body.errors || {}).forEach(function (k) {
            var slot = form.querySelector('[data-error-for="' + k + '"]');
            if (slot) { slot.textContent = body.errors[k]; }
          });
        })
        .catch(function () { button.disabled = false; status.textContent = C.failed; });
    });
    box.replaceChildren(form);
  }
  function start() {
    document.querySelectorAll('[data-peyvand-form="' + C.key + '"]').forEach(render);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
