// Small behaviours the Content-Security-Policy allows (no inline scripts).
document.documentElement.classList.add("js");

// «Свернуть» folds its help panel and returns focus to the panel's title.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-collapse]");
  const panel = button && button.closest("details");
  if (panel) {
    panel.open = false;
    panel.querySelector("summary").focus();
  }
});

// «Распечатать» on the receipt (shown only with JavaScript: without it, the browser's own
// print serves).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
