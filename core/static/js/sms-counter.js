/* Live SMS part counter (mirrors modules/marketing/sms_length.py; the server count is the
 * truth). textarea[data-sms-count] updates [data-sms-counter="<its name>"]: parts and the
 * characters left in the last part. Persian (UCS-2) 70 per part, 67 when split; GSM-7 160/153.
 */
(function () {
  "use strict";

  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";

  function smsLength(text) {
    var chars = Array.from(text || "");
    var gsm = chars.every(function (ch) {
      return GSM_BASIC.indexOf(ch) >= 0 || GSM_EXTENDED.indexOf(ch) >= 0;
    });
    var units, single, multi;
    if (gsm) {
      units = chars.reduce(function (n, ch) { return n + (GSM_EXTENDED.indexOf(ch) >= 0 ? 2 : 1); }, 0);
      single = 160; multi = 153;
    } else {
      units = (text || "").length;  /* UTF-16 code units, as UCS-2 counts them */
      single = 70; multi = 67;
    }
    if (units <= single) return {encoding: gsm ? "gsm" : "ucs2", parts: units ? 1 : 0, remaining: single - units};
    var parts = Math.ceil(units / multi);
    return {encoding: gsm ? "gsm" : "ucs2", parts: parts, remaining: parts * multi - units};
  }

  function localDigits(value) {
    var text = String(value);
    if ((document.documentElement.lang || "fa").slice(0, 2) !== "fa") return text;
    return text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[Number(d)]; });
  }

  function update(area) {
    var box = document.querySelector('[data-sms-counter="' + area.name + '"]');
    if (!box) return;
    var result = smsLength(area.value);
    box.querySelector("[data-parts]").textContent = localDigits(result.parts);
    box.querySelector("[data-remaining]").textContent = localDigits(result.remaining);
    box.querySelector("[data-encoding]").textContent =
      box.getAttribute(result.encoding === "gsm" ? "data-label-gsm" : "data-label-ucs2");
    box.setAttribute("data-js-parts", String(result.parts));
  }

  function init() {
    document.querySelectorAll("textarea[data-sms-count]").forEach(function (area) {
      if (area.dataset.smsCountReady) return;
      area.dataset.smsCountReady = "1";
      area.addEventListener("input", function () { update(area); });
      update(area);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.crmSmsLength = smsLength;
})();
