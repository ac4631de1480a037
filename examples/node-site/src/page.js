'use strict';
/**
 * The checkout page (GET /). Plain HTML with a little inline script, no build step.
 *
 * The browser only ever talks to THIS site (POST /orders, POST /payments/verify,
 * GET /access) and to Razorpay Checkout. It never sees the site's JWT secret, and the
 * amount it is charged comes from the site's catalogue on the server.
 */

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function rupees(paise) {
  return `₹${Math.floor(paise / 100)}.${String(paise % 100).padStart(2, '0')}`;
}

function renderPage({ siteName, siteId, checkoutScriptUrl, courses }) {
  const rows = courses
    .map(
      (course) => `
    <li class="course" data-sku="${escapeHtml(course.sku)}">
      <span><strong>${escapeHtml(course.name)}</strong><br>
        <small>${escapeHtml(course.sku)} · ${rupees(course.amount)}</small></span>
      <span class="owned" hidden>✓ You have access</span>
      <button type="button" data-buy="${escapeHtml(course.sku)}">Buy</button>
    </li>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(siteName)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
    ul { list-style: none; padding: 0; }
    .course { display: flex; justify-content: space-between; align-items: center;
              padding: 1rem; border: 1px solid #ddd; border-radius: .5rem; margin-bottom: .75rem; }
    .owned { color: #047857; font-weight: 600; }
    #status.error { color: #b91c1c; }
    [hidden] { display: none !important; } /* .course's display: flex would show it */
  </style>
</head>
<body>
  <h1>${escapeHtml(siteName)}</h1>
  <p>Site <code>${escapeHtml(siteId)}</code> · payments by the shared payments service</p>

  <!-- DEMO ONLY: a real site knows the buyer from its login session. -->
  <p>
    <label>Email <input id="email" type="email" autocomplete="email" required></label>
    <label>Name <input id="name" autocomplete="name"></label>
  </p>

  <ul id="courses">${rows}
  </ul>

  <!-- The membership: its price is the plan the seller's admin defined at the service. -->
  <div id="membership" class="course" data-sku="all-courses" hidden>
    <span><strong>Membership: all courses</strong><br><small id="membership-price"></small><br>
      <small id="membership-status"></small></span>
    <span class="owned" id="membership-owned" hidden>✓ Member</span>
    <button type="button" id="subscribe">Subscribe</button>
    <button type="button" id="cancel-membership" hidden>Cancel at the end of the month</button>
  </div>
  <p id="status" role="status"></p>

  <!-- Razorpay Checkout: the sandbox's copy in development, Razorpay's in production. -->
  <script src="${escapeHtml(checkoutScriptUrl)}"></script>
  <script>
  "use strict";
  const carts = {}; // one cart id per course and buyer: a retried Buy reuses the same order

  function show(text, isError) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function newCartId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { ok: response.ok, body: await response.json().catch(() => ({})) };
  }

  // GET /access answers from the notifications this site has received.
  async function refreshAccess() {
    const email = document.getElementById("email").value.trim();
    if (!email) return [];
    const response = await fetch("/access?email=" + encodeURIComponent(email));
    const { skus } = await response.json();
    for (const item of document.querySelectorAll(".course")) {
      const owned = skus.includes(item.dataset.sku);
      item.querySelector(".owned").hidden = !owned;
      item.querySelector("button").hidden = owned;
    }
    return skus;
  }

  async function buy(sku) {
    const email = document.getElementById("email").value.trim();
    const name = document.getElementById("name").value.trim();
    if (!email) { show("Enter your email first", true); return; }
    const cartKey = sku + "|" + email.toLowerCase();
    carts[cartKey] = carts[cartKey] || newCartId();

    // 1. Our backend creates the order with the payments service (amount from OUR catalogue).
    show("Opening checkout…");
    const made = await postJson("/orders", { sku, email, name: name || undefined, cart_id: carts[cartKey] });
    if (!made.ok) { show(made.body.detail || "Could not create the order", true); return; }

    // 2. Open Checkout with the options the service prepared, plus our handler.
    const rzp = new Razorpay({
      ...made.body.checkout,
      handler: async function (result) {
        // 3. Hand the result to our backend, which asks the service to verify it.
        show("Verifying payment…");
        const verified = await postJson("/payments/verify", {
          razorpay_order_id: result.razorpay_order_id,
          razorpay_payment_id: result.razorpay_payment_id,
          razorpay_signature: result.razorpay_signature,
        });
        if (!verified.ok) { show("Verification failed: " + (verified.body.detail || "try again"), true); return; }
        delete carts[cartKey]; // paid: the next purchase is a new cart
        show("Payment received. Unlocking your course…");
        // 4. Access arrives by the service's signed notification; wait for it briefly.
        for (let i = 0; i < 20; i += 1) {
          if ((await refreshAccess()).includes(sku)) { show("Payment received: you have access."); return; }
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        show("Payment received. Access will appear in a moment.");
      },
      modal: { ondismiss: () => show("Checkout closed") },
    });
    rzp.on("payment.failed", (response) => show("Payment failed: " + response.error.description, true));
    rzp.open();
  }

  // The membership: find the plan, subscribe with Checkout (subscription_id), cancel.
  let subscribeRequest = newCartId(); // the Idempotency-Key of one Subscribe, reused by retries
  let shownSubscription = null;

  async function loadMembership() {
    const response = await fetch("/membership");
    if (!response.ok) return; // no plan defined yet: nothing on sale
    const { plan } = await response.json();
    document.getElementById("membership-price").textContent =
      "all-courses · " + rupees(plan.amount) + " a " + ({daily: "day", weekly: "week", monthly: "month", yearly: "year"})[plan.period] + (plan.interval > 1 ? " (every " + plan.interval + ")" : "");
    document.getElementById("membership").hidden = false;
  }

  async function refreshMembership() {
    const email = document.getElementById("email").value.trim();
    if (!email) return;
    const skus = await refreshAccess();
    const member = skus.includes("all-courses");
    const response = await fetch("/subscriptions?email=" + encodeURIComponent(email));
    const { subscriptions } = await response.json();
    shownSubscription = subscriptions[0] || null;
    const ended = !shownSubscription || ["cancelled", "completed", "expired"].includes(shownSubscription.status);
    document.getElementById("membership-owned").hidden = !member;
    document.getElementById("membership-status").textContent = shownSubscription
      ? "Your subscription: " + shownSubscription.status + (shownSubscription.cancel_at_cycle_end ? ", ends " + shownSubscription.current_end : "")
      : "";
    document.getElementById("subscribe").hidden = member || !ended;
    document.getElementById("cancel-membership").hidden = ended || shownSubscription.cancel_at_cycle_end;
  }

  async function subscribe() {
    const email = document.getElementById("email").value.trim();
    if (!email) { show("Enter your email first", true); return; }
    show("Opening checkout…");
    const made = await postJson("/subscriptions", { email, request_id: subscribeRequest });
    if (!made.ok) { show(made.body.detail || "Could not subscribe", true); return; }
    const rzp = new Razorpay({
      ...made.body.checkout,
      handler: async function (result) {
        show("Verifying your subscription…");
        const verified = await postJson("/subscriptions/" + encodeURIComponent(made.body.subscription_id) + "/verify", result);
        if (!verified.ok) { show("Verification failed: " + (verified.body.detail || "try again"), true); return; }
        subscribeRequest = newCartId();
        show("Subscribed: " + verified.body.status + ". Unlocking every course…");
        for (let i = 0; i < 20; i += 1) {
          await refreshMembership();
          if ((await refreshAccess()).includes("all-courses")) { show("You are a member: every course is yours."); return; }
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      },
      modal: { ondismiss: () => show("Checkout closed") },
    });
    rzp.on("payment.failed", (response) => show("Payment failed: " + response.error.description, true));
    rzp.open();
  }

  async function cancelMembership() {
    const email = document.getElementById("email").value.trim();
    const done = await postJson("/subscriptions/" + encodeURIComponent(shownSubscription.id) + "/cancel", { email, at_cycle_end: true });
    show(done.ok ? "Cancelled: you keep access until " + done.body.current_end : (done.body.detail || "Could not cancel"), !done.ok);
    await refreshMembership();
  }

  function rupees(paise) {
    return "₹" + Math.floor(paise / 100) + "." + String(paise % 100).padStart(2, "0");
  }

  document.getElementById("subscribe").addEventListener("click", () => subscribe().catch(() => show("Something went wrong", true)));
  document.getElementById("cancel-membership").addEventListener("click", () => cancelMembership().catch(() => show("Something went wrong", true)));
  document.getElementById("email").addEventListener("change", () => refreshMembership().catch(() => {}));
  loadMembership().catch(() => {});

  for (const button of document.querySelectorAll("[data-buy]")) {
    button.addEventListener("click", () => buy(button.dataset.buy).catch(() => show("Something went wrong", true)));
  }
  document.getElementById("email").addEventListener("change", () => refreshAccess().catch(() => {}));
  </script>
</body>
</html>
`;
}

module.exports = { renderPage, escapeHtml };
