// Starts the vendored Swagger UI on the service's own OpenAPI document (no inline script: CSP).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    withCredentials: true,
  });
});
