// The "Copy to clipboard" buttons: `data-copy` names the element whose text is copied. The
// buttons are hidden until this script runs (without it, the text is selectable as is).
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    await navigator.clipboard.writeText(source.textContent.trim());
    const done = button.parentElement.querySelector("[data-copied]");
    if (done) done.hidden = false;
  });
});
