"""The one door to Razorpay: a typed wrapper over the official SDK (client.py; calls.py for
how each call is made), with every failure told as the service's gateway errors (errors.py).

Every call has a timeout; calls that are safe to repeat (reads) are retried on transport
failures with a short backoff; no Razorpay exception leaks past this package.
"""

from .client import PAGE_SIZE, Entity, RazorpayGateway

__all__ = ["PAGE_SIZE", "Entity", "RazorpayGateway"]
