"""The one door to Razorpay: a typed wrapper over the official SDK (client.py), sending its
calls through one keep-alive connection pool per gateway (transport.py), with every failure
told as the service's gateway errors (errors.py).

Every call has a timeout; calls that are safe to repeat (reads) are retried on transport
failures with a short backoff; no Razorpay exception leaks past this package.
"""

from .client import PAGE_SIZE, Entity, RazorpayGateway

__all__ = ["PAGE_SIZE", "Entity", "RazorpayGateway"]
