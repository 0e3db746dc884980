// Account balancing screens: open the Accounts Summary dialog once htmx has filled it, and
// hold the list's polling while the confirmation / change-reason dialog is open (a swap
// would replace the form the dialog is about to submit).
(function () {
  "use strict";

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
