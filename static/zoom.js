// Draws the hover zoom: a hovered node's heatmap thumbnail, enlarged beside it on its own canvas.
// Reads the network view's "hover" {target, thumb, x, y} (thumbs come from the heatmaps message).
// Emits no events.

export function createZoom(canvas) {
  document.addEventListener("hover", ({ detail: { target, thumb, x, y } }) => {
    canvas.hidden = !thumb;
    if (!thumb) return;
    const c = canvas.getContext("2d");
    c.imageSmoothingEnabled = false;
    c.drawImage(thumb, 0, 0, canvas.width, canvas.height);
    canvas.style.left = `${x}px`;
    canvas.style.top = `${y}px`;
    canvas.dataset.node = `${target.layer},${target.j}`;
  });
}
