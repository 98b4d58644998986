"""What the Official Account and WeCom share (neither imports the other): wechatpy clients
rebased on a configurable API root, the access-token cache, callback crypto, the callback
gate (signature, size, replay), answer bookkeeping and error classification."""

from __future__ import annotations


def secret_text(value: object) -> str:
    """A SecretStr's text; "" for None (settings keep unset secrets as None)."""
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""
