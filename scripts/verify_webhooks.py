#!/usr/bin/env python3
"""Verifies captured webhook deliveries with the reference Standard Webhooks
library (PyPI `standardwebhooks` 1.1.0), as a receiver would.

Usage: verify_webhooks.py CAPTURE.json
CAPTURE.json: {"secret": "whsec_...", "deliveries": [{"headers": {...}, "body": "..."}]}
Prints one line per delivery; exits 1 if any fails to verify.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        capture = json.load(f)
    hook = Webhook(capture["secret"])
    failures = 0
    for n, delivery in enumerate(capture["deliveries"]):
        try:
            payload = hook.verify(delivery["body"], delivery["headers"])
            print(f"{n}: verified {delivery['headers']['webhook-id']} type={payload.get('type')}")
        except Exception as e:  # the library raises WebhookVerificationError
            failures += 1
            print(f"{n}: NOT verified: {e}")
    # A tampered body must fail.
    if capture["deliveries"]:
        d = capture["deliveries"][0]
        try:
            hook.verify(d["body"] + " ", d["headers"])
            print("tampered body verified: the check is broken")
            failures += 1
        except Exception:
            print("tampered body refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
