/*
 * Razorpay sandbox stand-in for https://checkout.razorpay.com/v1/checkout.js.
 *
 * Defines window.Razorpay with the same surface merchant pages use:
 *   const rzp = new Razorpay(options);
 *   rzp.on("payment.failed", (response) => { ... });
 *   rzp.open();
 * The modal is an iframe of the sandbox's test-payment page; results come back by
 * postMessage, accepted only from the sandbox origin this script was loaded from.
 */
(function () {
  "use strict";

  const MESSAGE_SOURCE = "razorpay-sandbox";
  const script =
    document.currentScript ||
    Array.from(document.scripts).find((element) => /\/checkout\.js(\?|$)/.test(element.src));
  const SANDBOX_ORIGIN = new URL(script.src, window.location.href).origin;

  function paymentPageUrl(options) {
    const prefill = options.prefill || {};
    const params = new URLSearchParams({
      key_id: options.key,
      name: options.name || "",
      description: options.description || "",
      prefill_name: prefill.name || "",
      prefill_email: prefill.email || "",
      prefill_contact: prefill.contact || "",
      prefill_method: prefill.method || "",
      origin: window.location.origin,
    });
    if (options.notes) {
      params.set("notes", JSON.stringify(options.notes));
    }
    if (options.subscription_id) {
      // Subscriptions open Checkout with subscription_id instead of order_id (no amount).
      params.set("subscription_id", options.subscription_id);
      return SANDBOX_ORIGIN + "/checkout/subscription?" + params.toString();
    }
    params.set("order_id", options.order_id);
    return SANDBOX_ORIGIN + "/checkout/pay?" + params.toString();
  }

  function postForm(url, fields) {
    const form = document.createElement("form");
    form.method = "POST";
    form.action = url;
    form.style.display = "none";
    Object.entries(fields).forEach(([name, value]) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function failureFields(error) {
    const fields = {};
    Object.entries(error || {}).forEach(([name, value]) => {
      fields["error[" + name + "]"] = typeof value === "object" ? JSON.stringify(value) : value;
    });
    return fields;
  }

  class Razorpay {
    constructor(options) {
      if (!options || !options.key) {
        throw new Error("Razorpay sandbox: the 'key' option is required");
      }
      if (!options.order_id && !options.subscription_id) {
        throw new Error("Razorpay sandbox: the 'order_id' or 'subscription_id' option is required");
      }
      this.options = options;
      this.listeners = {};
      this.overlay = null;
      this.frame = null;
      this.onMessage = this.onMessage.bind(this);
    }

    on(event, callback) {
      (this.listeners[event] = this.listeners[event] || []).push(callback);
      return this;
    }

    open() {
      if (this.overlay) {
        return this;
      }
      const overlay = document.createElement("div");
      overlay.setAttribute("data-razorpay-sandbox", "overlay");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;" +
        "justify-content:center;background:rgba(15,23,42,0.6);";
      const frame = document.createElement("iframe");
      frame.title = "Razorpay sandbox checkout";
      frame.src = paymentPageUrl(this.options);
      frame.style.cssText =
        "width:420px;max-width:100%;height:620px;max-height:100%;border:0;" +
        "border-radius:8px;background:#fff;";
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
      this.overlay = overlay;
      this.frame = frame;
      window.addEventListener("message", this.onMessage);
      return this;
    }

    close() {
      window.removeEventListener("message", this.onMessage);
      if (this.overlay) {
        this.overlay.remove();
      }
      this.overlay = null;
      this.frame = null;
    }

    onMessage(event) {
      if (event.origin !== SANDBOX_ORIGIN || !this.frame) {
        return;
      }
      if (event.source !== this.frame.contentWindow) {
        return;
      }
      const message = event.data || {};
      if (message.source !== MESSAGE_SOURCE) {
        return;
      }
      if (message.type === "payment.success") {
        this.succeed(message.data);
      } else if (message.type === "payment.failed") {
        this.fail(message.data);
      } else if (message.type === "dismiss") {
        this.dismiss();
      }
    }

    succeed(response) {
      this.close();
      if (this.options.callback_url) {
        postForm(this.options.callback_url, response);
      } else if (typeof this.options.handler === "function") {
        this.options.handler(response);
      }
    }

    fail(response) {
      (this.listeners["payment.failed"] || []).forEach((callback) => callback(response));
      if (this.options.callback_url && this.options.redirect) {
        this.close();
        postForm(this.options.callback_url, failureFields(response.error));
      } else if (this.options.retry && this.options.retry.enabled === false) {
        this.dismiss();
      }
    }

    dismiss() {
      this.close();
      const modal = this.options.modal || {};
      if (typeof modal.ondismiss === "function") {
        modal.ondismiss();
      }
    }
  }

  window.Razorpay = Razorpay;
})();
