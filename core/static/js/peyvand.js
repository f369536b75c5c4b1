/* Peyvand behaviour. The CSP forbids inline scripts and handlers, so every page behaviour is
 * declared with data-* attributes and wired here. Everything is (re)initialised by
 * htmx.onLoad, which runs for the first page and for every piece of HTML htmx swaps in.
 *
 *   input[data-jalali-date]              Jalali date picker (value "1403/01/15")
 *   input[data-jalali-datetime]          Jalali date and time picker ("1403/01/15 14:30:00")
 *   canvas[data-chart='{"type":...}']    Chart.js chart from a JSON config
 *   [data-sortable="/url"]               drag-and-drop list; POSTs the new order to the url
 *     data-sortable-sort="false"           only moves between lists (a kanban column)
 *   [data-confirm="Question?"]           asks before a click/submit goes ahead
 *   [data-autosubmit]                    a <select>/<input> that submits its form on change
 *   meta[name=csrf-token]                sent as X-CSRFToken on every htmx and fetch request
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var locale = root.lang || "fa";
  var rtl = root.dir === "rtl";
  var messages = {};
  try {
    var i18nNode = document.getElementById("crm-i18n");
    if (i18nNode) messages = JSON.parse(i18nNode.textContent);
  } catch (err) { /* keep the fallbacks below */ }

  function t(key, fallback) { return messages[key] || fallback; }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* A short message at the page corner (errors from background requests). */
  function toast(message, level) {
    var template = document.getElementById("crm-toast-template");
    var box = document.getElementById("crm-toasts");
    if (!template || !box || !window.bootstrap) { window.alert(message); return; }
    var node = template.content.firstElementChild.cloneNode(true);
    if (level && level !== "danger") {
      node.classList.remove("text-bg-danger");
      node.classList.add("text-bg-" + level);
    }
    node.querySelector("[data-toast-message]").textContent = message;
    box.appendChild(node);
    node.addEventListener("hidden.bs.toast", function () { node.remove(); });
    new window.bootstrap.Toast(node, { delay: 6000 }).show();
  }

  /* ---- htmx: CSRF header and loud failures -------------------------------------- */
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = t("requestFailed", "The request failed.");
    if (xhr && xhr.getResponseHeader("Content-Type") &&
        xhr.getResponseHeader("Content-Type").indexOf("text/plain") === 0 && xhr.responseText) {
      text = xhr.responseText;
    }
    toast(text);
  });
  document.addEventListener("htmx:sendError", function () {
    toast(t("offline", "The server cannot be reached."));
  });

  /* ---- Jalali date picker ---------------------------------------------------------- */
  var MONTHS_EN = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"];
  var DAYS_EN = ["Sa", "Su", "Mo", "Tu", "We", "Th", "Fr"];
  var datepickerStarted = false;
  var DATE_INPUTS = "input[data-jalali-date], input[data-jalali-datetime]";
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  var ARABIC = "٠١٢٣٤٥٦٧٨٩";

  function latinDigits(text) {
    return text.replace(/[۰-۹٠-٩]/g, function (d) {
      var i = PERSIAN.indexOf(d);
      return String(i >= 0 ? i : ARABIC.indexOf(d));
    });
  }

  function persianDigits(text) {
    return text.replace(/[0-9]/g, function (d) { return PERSIAN[Number(d)]; });
  }

  /* The picker reads only Latin digits: hand it those while the field has focus, and show
   * Persian digits again (in fa) once a date is chosen. The server accepts both. */
  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.matches && input.matches(DATE_INPUTS) && /[۰-۹٠-٩]/.test(input.value)) {
      input.value = latinDigits(input.value);
    }
  }, true);
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (locale === "fa" && input.matches && input.matches(DATE_INPUTS)) {
      input.value = persianDigits(input.value);
    }
  }, true);

  function initDatepickers(scope) {
    if (!window.jalaliDatepicker) return;
    scope.querySelectorAll("input[data-jalali-date]").forEach(function (input) {
      input.setAttribute("data-jdp-only-date", "");
      input.setAttribute("autocomplete", "off");
    });
    scope.querySelectorAll("input[data-jalali-datetime]").forEach(function (input) {
      input.setAttribute("autocomplete", "off");
    });
    if (datepickerStarted) return;
    datepickerStarted = true;
    var options = {
      selector: DATE_INPUTS,
      date: true, time: true, hasSecond: false,
      persianDigits: locale === "fa",
      autoReadOnlyInput: false,
      zIndex: 1060,
      showCloseBtn: true
    };
    if (locale !== "fa") { options.months = MONTHS_EN; options.days = DAYS_EN; }
    window.jalaliDatepicker.startWatch(options);
  }

  /* ---- Charts ------------------------------------------------------------------------ */
  function initCharts(scope) {
    if (!window.Chart) return;
    var Chart = window.Chart;
    var font = window.getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.family = font;
    Chart.defaults.locale = locale === "fa" ? "fa-IR" : "en";
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.plugins.legend.rtl = rtl;
    Chart.defaults.plugins.tooltip.rtl = rtl;
    if (locale === "fa" && Chart.defaults.scales.linear && !Chart.defaults.scales.linear._crm) {
      // Chart.js writes a zero tick as a Latin "0" whatever the locale
      var numeric = Chart.Ticks.formatters.numeric;
      Chart.defaults.scales.linear.ticks.callback = function (value, index, ticks) {
        return persianDigits(String(numeric.call(this, value, index, ticks)));
      };
      Chart.defaults.scales.linear._crm = true;
    }
    scope.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (Chart.getChart(canvas)) return;
      var config;
      try {
        config = JSON.parse(canvas.getAttribute("data-chart"));
      } catch (err) {
        console.warn("data-chart is not valid JSON", canvas, err);
        return;
      }
      new Chart(canvas, config);
    });
  }

  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var element = event.detail.elt;
    if (window.Chart && element.tagName === "CANVAS" && window.Chart.getChart(element)) {
      window.Chart.getChart(element).destroy();
    }
  });

  /* ---- Drag-and-drop lists -------------------------------------------------------------
   * <ul data-sortable="{{ url_for(...) }}" data-sortable-list="42" data-sortable-group="stages">
   *   <li data-id="7">...</li>
   * POSTs form fields: item (the moved data-id), from / to (data-sortable-list of the source
   * and target lists), index (new position), order (every data-id of the target, in order).
   * A non-2xx answer puts the item back and shows the answer's text (or a generic message).
   * On success a "crm:sorted" event is fired on the target list with {response} in detail.
   */
  function initSortables(scope) {
    if (!window.Sortable) return;
    var lists = scope.matches && scope.matches("[data-sortable]") ? [scope] : [];
    lists = lists.concat(Array.prototype.slice.call(scope.querySelectorAll("[data-sortable]")));
    lists.forEach(function (list) {
      if (list._crmSortable) return;
      list._crmSortable = window.Sortable.create(list, {
        group: list.getAttribute("data-sortable-group") || undefined,
        sort: list.getAttribute("data-sortable-sort") !== "false",  // "false": move between lists only
        handle: list.querySelector("[data-sortable-handle]") ? "[data-sortable-handle]" : undefined,
        draggable: "[data-id]",
        animation: 150,
        ghostClass: "crm-sortable-ghost",
        chosenClass: "crm-sortable-chosen",
        onEnd: function (event) { saveOrder(event); }
      });
    });
  }

  function saveOrder(event) {
    var target = event.to;
    var source = event.from;
    if (source === target && event.oldIndex === event.newIndex) return;
    var url = target.getAttribute("data-sortable");
    if (!url) return;
    var body = new FormData();
    body.append("item", event.item.getAttribute("data-id"));
    body.append("from", source.getAttribute("data-sortable-list") || "");
    body.append("to", target.getAttribute("data-sortable-list") || "");
    body.append("index", String(event.newIndex));
    target.querySelectorAll(":scope > [data-id]").forEach(function (node) {
      body.append("order", node.getAttribute("data-id"));
    });
    target.classList.add("crm-sortable-saving");
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
          throw new Error(plain && text ? text : t("orderSaveFailed", "The order was not saved."));
        });
      }
      target.dispatchEvent(new CustomEvent("crm:sorted", {
        bubbles: true, detail: { response: response, item: event.item }
      }));
    }).catch(function (error) {
      event.item.remove();  // then its old neighbours are where they were before the drag
      source.insertBefore(event.item, source.children[event.oldIndex] || null);
      toast(error && error.message ? error.message : t("orderSaveFailed", "Not saved."));
    }).finally(function () {
      target.classList.remove("crm-sortable-saving");
    });
  }

  /* A JSON answer to a drag may carry {"text": {"element-id": "new text", ...}}: numbers
   * that changed with the move (the kanban board's column counts and totals). */
  document.addEventListener("crm:sorted", function (event) {
    var response = event.detail && event.detail.response;
    var type = response && response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") !== 0) return;
    response.json().then(function (data) {
      var text = (data && data.text) || {};
      Object.keys(text).forEach(function (id) {
        var node = document.getElementById(id);
        if (node) node.textContent = text[id];
      });
    }).catch(function () { /* the move is saved; only the header numbers stay stale */ });
  });

  /* ---- Confirmation dialogs ------------------------------------------------------------
   * data-confirm on a link, a button (or any htmx trigger) asks on click; on a <form> it
   * asks on submit. The dialog is the Bootstrap modal #crm-confirm in base.html.
   */
  var confirmed = null;

  function askThenRun(message, run) {
    var modalNode = document.getElementById("crm-confirm");
    if (!modalNode || !window.bootstrap) {
      if (window.confirm(message)) run();
      return;
    }
    modalNode.querySelector("[data-confirm-message]").textContent = message;
    var modal = window.bootstrap.Modal.getOrCreateInstance(modalNode);
    var ok = modalNode.querySelector("[data-confirm-ok]");
    var accepted = false;
    var shown = false;
    // Bootstrap ignores hide() while the modal is still fading in: a quick "OK" would be lost.
    function onShown() { shown = true; if (accepted) modal.hide(); }
    function onOk() { accepted = true; if (shown) modal.hide(); }
    function onHidden() {
      ok.removeEventListener("click", onOk);
      modalNode.removeEventListener("shown.bs.modal", onShown);
      modalNode.removeEventListener("hidden.bs.modal", onHidden);
      if (accepted) run();
    }
    ok.addEventListener("click", onOk);
    modalNode.addEventListener("shown.bs.modal", onShown);
    modalNode.addEventListener("hidden.bs.modal", onHidden);
    modal.show();
  }

  document.addEventListener("click", function (event) {
    var element = event.target.closest("[data-confirm]");
    if (!element || element.tagName === "FORM") return;
    if (confirmed === element) { confirmed = null; return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    askThenRun(element.getAttribute("data-confirm"), function () {
      confirmed = element;
      element.click();
    });
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-confirm")) return;
    if (confirmed === form) { confirmed = null; return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    askThenRun(form.getAttribute("data-confirm"), function () {
      confirmed = form;
      form.requestSubmit(submitter);
    });
  }, true);

  /* ---- Small helpers --------------------------------------------------------------------- */
  document.addEventListener("change", function (event) {
    var element = event.target;
    if (element.hasAttribute && element.hasAttribute("data-autosubmit") && element.form) {
      element.form.requestSubmit();
    }
  });

  /* An item appended to a drag-and-drop list (a kanban column's "Show more") that the user
   * already dragged into that group of lists before it loaded: keep the one on screen. */
  function dropRepeatedItem(scope) {
    var list = scope.parentElement;
    var id = scope.getAttribute && scope.getAttribute("data-id");
    var group = list && list.getAttribute("data-sortable-group");
    if (!id || !group) return;
    var selector = '[data-sortable-group="' + group + '"] > [data-id="' + id + '"]';
    var same = document.querySelectorAll(selector);
    if (same.length > 1 && same[0] !== scope) scope.remove();
  }

  function initAll(scope) {
    dropRepeatedItem(scope);
    initDatepickers(scope);
    initCharts(scope);
    initSortables(scope);
  }

  window.Peyvand = { csrfToken: csrfToken, toast: toast, init: initAll };

  if (window.htmx) {
    window.htmx.onLoad(initAll);  // the first page, then every swapped-in fragment
  } else {
    initAll(document);
  }
})();
