// "Copy to clipboard" buttons: `data-copy` names the element whose text is copied, and a
// sibling `data-copied` says it was. The buttons stay hidden until this script runs: without
// it (or without clipboard access) the text is still there to select by hand.
document.querySelectorAll("[data-copy]").forEach((button) => {
  const note = button.parentElement.querySelector("[data-copied]");
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      if (note) note.textContent = "Copied.";
    } catch {
      if (note) note.textContent = "Could not copy: select the token and copy it by hand.";
    }
    if (note) note.hidden = false;
  });
});
