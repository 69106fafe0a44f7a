// Starts Swagger UI on /docs. It is a file rather than the usual inline script so that the docs page keeps a
// Content-Security-Policy without 'unsafe-inline'; the page names the OpenAPI document in data-openapi-url.
(function () {
  "use strict";
  var url = document.currentScript.getAttribute("data-openapi-url");
  window.ui = SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
