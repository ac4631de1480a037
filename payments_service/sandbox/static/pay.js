/*
 * Behaviour of the sandbox's test-payment page: pay or fail the order through the control
 * API, then tell the merchant page (the iframe's parent) by postMessage.
 */
(function () {
  "use strict";

  const MESSAGE_SOURCE = "razorpay-sandbox";
  const root = document.getElementById("sandbox-checkout");
  if (!root) {
    return;
  }
  const status = document.getElementById("sandbox-status");
  const buttons = [
    document.getElementById("sandbox-pay-success"),
    document.getElementById("sandbox-pay-failure"),
  ];

  function notify(type, data) {
    const origin = root.dataset.targetOrigin;
    if (!origin || window.parent === window) {
      return;
    }
    const message = { source: MESSAGE_SOURCE, type: type, data: data };
    window.parent.postMessage(message, origin === "null" ? "*" : origin);
  }

  function show(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function setBusy(busy) {
    buttons.forEach((button) => {
      button.disabled = busy;
    });
  }

  function attempt(outcome) {
    const body = {
      outcome: outcome,
      method: document.getElementById("sandbox-method").value,
      email: document.getElementById("sandbox-email").value,
      contact: document.getElementById("sandbox-contact").value,
      name: root.dataset.customerName,
      description: root.dataset.description,
    };
    if (root.dataset.notes) {
      body.notes = JSON.parse(root.dataset.notes);
    }
    return body;
  }

  async function pay(outcome) {
    setBusy(true);
    show("Processing…", false);
    const url =
      root.dataset.payUrl ||
      "/_sandbox/orders/" + encodeURIComponent(root.dataset.orderId) + "/pay";
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(attempt(outcome)),
      });
      const result = await response.json();
      if (!response.ok) {
        // Refused before any payment was made (e.g. the order was paid in another tab).
        show(result.error.description.replace(/\.?$/, ". No payment was made."), true);
        setBusy(false);
      } else if (result.razorpay_payment_id) {
        show("Payment successful: " + result.razorpay_payment_id, false);
        notify("payment.success", result);
      } else {
        show(result.error.description.replace(/\.?$/, ". You can try again."), true);
        setBusy(false);
        notify("payment.failed", result);
      }
    } catch (error) {
      show("Could not reach the sandbox: " + error, true);
      setBusy(false);
    }
  }

  buttons[0].addEventListener("click", () => pay("success"));
  buttons[1].addEventListener("click", () => pay("failure"));
  document.getElementById("sandbox-close").addEventListener("click", () => {
    notify("dismiss", null);
    show("Closed.", false);
  });
})();
