"""Sends a small, realistic set of errors to a DSN with the real Python SDK (sentry-sdk): a few
kinds of failure from a made-up shop, across two releases, two environments and several users,
with breadcrumbs, request data and tags — something to look at in the web app.

    python scripts/demo_events.py DSN [ROUNDS]
"""

import random
import sys

import sentry_sdk

dsn = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
rng = random.Random(7)


class PaymentDeclined(Exception):
    pass


class InventoryTimeout(TimeoutError):
    pass


def charge(cart):
    amount = sum(item["price"] * item["qty"] for item in cart)
    if amount > 500:
        raise PaymentDeclined(f"card declined for amount {amount}")
    return amount


def reserve(sku):
    raise InventoryTimeout(f"inventory service did not answer for {sku} within 2.0s")


def parse_coupon(code):
    return {"code": code, "percent": int(code.split("-")[1])}


def average_rating(ratings):
    return sum(ratings) / len(ratings)


def load_profile(profiles, user_id):
    return profiles[user_id]["shipping_address"]


FAILURES = [
    (lambda: charge([{"price": 320, "qty": 2}]), "POST", "/api/checkout"),
    (lambda: reserve("SKU-1042"), "POST", "/api/cart/reserve"),
    (lambda: parse_coupon("SUMMER-twenty"), "GET", "/api/coupons/SUMMER-twenty"),
    (lambda: average_rating([]), "GET", "/api/products/77/rating"),
    (lambda: load_profile({}, "u-981"), "GET", "/api/account/shipping"),
]

for release in ("shop@1.4.0", "shop@1.5.0"):
    sentry_sdk.init(dsn=dsn, release=release, environment="production", traces_sample_rate=0)
    for _ in range(rounds):
        for fail, method, path in FAILURES:
            if rng.random() < 0.3:
                continue
            with sentry_sdk.new_scope() as scope:
                user = rng.choice(["u-101", "u-102", "u-230", "u-981", "u-777"])
                scope.set_user({"id": user, "email": f"{user}@example.com"})
                scope.set_tag("region", rng.choice(["eu-west-1", "us-east-1"]))
                scope.set_tag("customer_tier", rng.choice(["free", "pro", "enterprise"]))
                scope.set_context("request", {"method": method, "url": f"https://shop.example.com{path}"})
                sentry_sdk.add_breadcrumb(category="http", message=f"{method} {path}", level="info")
                sentry_sdk.add_breadcrumb(category="db.query", message="SELECT * FROM carts WHERE user_id = %s", level="info")
                try:
                    fail()
                except Exception:
                    sentry_sdk.capture_exception()
    sentry_sdk.capture_message("Slow checkout: 4.2s to confirm the order", level="warning")
    sentry_sdk.flush(timeout=10)
print("ok: demo events sent")
