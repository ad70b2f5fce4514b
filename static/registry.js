// Draws nothing: the engine's registries as the server put them in the page (app/routes/catalog.py):
// menus' entries, each optimizer's hyper-parameters and update rule, each loss's fused flag and E,
// the plane's half-width, the class colours, the server's limits. Reads no frame fields; no events.

export const REGISTRY = JSON.parse(document.getElementById("registry").textContent);
