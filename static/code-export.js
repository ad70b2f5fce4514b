// Draws nothing: downloads the code behind the run (the share panel's NumPy script, notebook and
// PyTorch links) and, where the server has none (a session imported mid-run answers 409), shows its
// reason in #code-export-status instead of saving an error as a file. Reads no frames; emits nothing.

/** root: an element holding the share panel (its links come and go with htmx swaps). */
export function installCodeExport(root) {
  root.addEventListener("click", async (e) => {
    const link = e.target.closest("a.code-export");
    if (!link) return;
    e.preventDefault();
    const status = root.querySelector("#code-export-status");
    status.textContent = "";
    const response = await fetch(link.href);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      status.textContent = typeof body.detail === "string" ? body.detail : `no code to export (${response.status})`;
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const save = Object.assign(document.createElement("a"), { href: url, download: link.getAttribute("download") });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);   // after the download has taken it
  });
}
