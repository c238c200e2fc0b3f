/* global window, document, fetch, location, history, Option, HTMLSelectElement, HTMLAnchorElement, URLSearchParams */
// Starts Swagger UI (served from the gateway's own swagger-ui-dist, no CDN) on one of the
// documents the gateway lists at /openapi/, chosen in the bar above it: no inline script
// or style, so the page keeps the dashboard's Content-Security-Policy.

/**
 * @typedef {{ (options: Record<string, unknown>): unknown, presets: { apis: unknown } }} SwaggerUIBundleFunction
 * @typedef {{ documents: { name: string, title: string, url: string }[] }} DocumentIndex
 */
const swagger = /** @type {{ SwaggerUIBundle: SwaggerUIBundleFunction }} */ (/** @type {unknown} */ (window));

/** @param {string} url */
function show(url) {
  swagger.SwaggerUIBundle({
    url,
    dom_id: '#swagger-ui',
    deepLinking: true,
    // no call leaves for the public validator
    validatorUrl: null,
    presets: [swagger.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
  const download = document.getElementById('download');
  if (download instanceof HTMLAnchorElement) download.href = url;
}

async function start() {
  const response = await fetch('../openapi/', { headers: { Accept: 'application/json' } });
  const parsed = /** @type {unknown} */ (JSON.parse(await response.text()));
  const index = /** @type {DocumentIndex} */ (parsed);
  const select = document.getElementById('document');
  if (!(select instanceof HTMLSelectElement)) return;
  for (const entry of index.documents) select.append(new Option(`${entry.name}: ${entry.title}`, entry.name));
  const wanted = new URLSearchParams(location.search).get('document');
  const first = index.documents.find((entry) => entry.name === wanted) ?? index.documents[0];
  if (!first) return;
  select.value = first.name;
  show(first.url);
  select.addEventListener('change', () => {
    const chosen = index.documents.find((entry) => entry.name === select.value);
    if (!chosen) return;
    history.replaceState(null, '', `?document=${encodeURIComponent(chosen.name)}`);
    show(chosen.url);
  });
}

void start();
