// Account balancing screens: open the Accounts Summary dialog once htmx has filled it, and
// hold the list's polling while the confirmation / change-reason dialog is open (a swap
// would replace the form the dialog is about to submit).
//
// The operator selects one migration row (click, or Enter / Space on the focused row); the
// selection lives here, not in the rows, because polling swaps in fresh rows every few
// seconds: after each swap it is shown again on the row with the same migration id.
(function () {
  "use strict";

  const ROWS = "#migrations-live tr[data-migration]";
  // Clicks on these act on the row's migration; they do not select it.
  const CONTROLS = "a, button, input, select, textarea, label, form";
  let selected = null; // the selected migration's id, as in data-migration

  function showSelection() {
    document.querySelectorAll(ROWS).forEach(function (row) {
      const on = row.dataset.migration === selected;
      row.classList.toggle("mig-selected", on);
      if (on) {
        row.setAttribute("aria-selected", "true");
      } else {
        row.removeAttribute("aria-selected");
      }
    });
  }

  function select(row) {
    selected = row.dataset.migration;
    showSelection();
  }

  document.addEventListener("click", function (event) {
    const target = event.target;
    const row = target instanceof Element ? target.closest(ROWS) : null;
    if (row && !target.closest(CONTROLS)) {
      select(row);
    }
  });

  document.addEventListener("keydown", function (event) {
    // Only on the row itself: Enter on one of its buttons must press that button.
    const row = event.target;
    if (!(row instanceof Element) || !row.matches(ROWS)) {
      return;
    }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault(); // Space would scroll the page
      select(row);
    }
  });

  // Again once settled too: htmx gives a swapped-in row with a known id the old row's
  // attributes until it settles, then puts the server's back (the class without the highlight).
  document.addEventListener("htmx:afterSwap", showSelection);
  document.addEventListener("htmx:afterSettle", showSelection);

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail && event.detail.target;
    if (target && target.id === "accounts-body") {
      const dialog = document.getElementById("accounts-dialog");
      if (dialog && !dialog.open) {
        dialog.showModal();
      }
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    const source = event.detail && event.detail.elt;
    const reason = document.getElementById("reason-dialog");
    if (source && source.id === "migrations-live" && reason && reason.open) {
      event.preventDefault();
    }
  });
})();
