// Draws nothing itself: the page's sizing rules (the output plane's and the charts' size for the
// window and the projector) and the view settings (edge colouring, projector, log scale, test
// points) applied to the views, which then resize and redraw. Reads page.settings and page.frame.
// Emits no events; listens to the window's "resize" and the inspector's size (projector).

/** Output plane's largest side (CSS px): by the window, or on a projector as large as its grid
 * area (page.css) allows. */
export function planeSize(projector) {
  if (projector) {
    const box = document.querySelector(".planebox").getBoundingClientRect();
    const bottom = document.querySelector(".grid").getBoundingClientRect().bottom;
    return Math.round(Math.max(160, Math.min(box.width, bottom - box.top - 4)));
  }
  return window.innerWidth >= 1800 ? 400 : window.innerHeight < 800 ? 230 : 300;
}

/** A chart's height (CSS px). */
export function chartHeight(projector) {
  return projector ? Math.max(80, Math.min(170, window.innerHeight * 0.15)) : window.innerHeight < 800 ? 78 : 120;
}

/** views: {view, plane, lossChart, gradChart, legend, series}; inspector: the element whose height
 * the projector's plane gives way to. Returns {apply()}: the view settings, again. */
export function createLayout(page, { view, plane, lossChart, gradChart, legend, series }, inspector) {
  function resize() {
    view.resize();
    plane.resize();
    lossChart.resize();
    gradChart.resize();
    legend.resize();
    if (page.frame) {
      lossChart.draw(series.lossSeries());
      gradChart.draw(series.gradSeries());
      legend.draw(view.scale());
    }
  }

  function apply() {
    const big = page.settings.projector;
    document.body.classList.toggle("projector", big);
    view.setOptions({ mode: page.settings.edge_mode, big });
    for (const chart of [lossChart, gradChart, legend]) chart.setOptions({ big });
    lossChart.setOptions({ log: page.settings.loss_log });
    plane.setOptions({ showTest: page.settings.show_test, discretize: page.settings.discretize });
    resize();
  }

  window.addEventListener("resize", resize);
  // Projector: the phase narration above the output plane grows and shrinks with its equations; the
  // plane takes what it leaves.
  new ResizeObserver(() => page.settings.projector && requestAnimationFrame(resize)).observe(inspector);
  return { apply };
}
