// OCS console: the confirmation / change-reason dialog and small conveniences.
// Forms marked data-confirm ask for confirmation; forms marked data-audited (EDR auditing is
// on) ask for a change reason, which is sent in the form's hidden change_reason field.
(function () {
  "use strict";

  function askThenSubmit(form, submitter) {
    const dialog = document.getElementById("reason-dialog");
    const audited = form.hasAttribute("data-audited");
    const reasonField = document.getElementById("reason-field");
    const reasonText = document.getElementById("reason-text");
    document.getElementById("reason-title").textContent = audited ? "Change reason" : "Confirm";
    document.getElementById("reason-message").textContent =
      form.dataset.confirm || "Say why you are making this change.";
    reasonField.hidden = !audited;
    reasonText.required = audited;
    reasonText.value = "";
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      function () {
        if (dialog.returnValue !== "ok") {
          return;
        }
        if (audited) {
          form.elements.namedItem("change_reason").value = reasonText.value.trim();
        }
        form.dataset.approved = "yes";
        form.requestSubmit(submitter || undefined);
      },
      { once: true }
    );
    dialog.showModal();
    (audited ? reasonText : document.getElementById("reason-ok")).focus();
  }

  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.method === "dialog") {
        return;
      }
      if (form.dataset.approved === "yes") {
        delete form.dataset.approved;
        return;
      }
      if (form.hasAttribute("data-audited") || form.hasAttribute("data-confirm")) {
        event.preventDefault();
        askThenSubmit(form, event.submitter);
      }
    },
    true
  );

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
      target.form.requestSubmit();
    }
  });
})();
