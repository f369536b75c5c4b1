// Swagger UI for /api/v1/docs: the spec URL comes from the page, nothing from other hosts.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    domNode: node,
    deepLinking: true,
    validatorUrl: null, // the default validator badge would call an outside service
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
})();
