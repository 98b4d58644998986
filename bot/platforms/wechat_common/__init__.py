"""What the Official Account and WeCom share (neither imports the other): wechatpy clients
rebased on a configurable API root, the access-token cache, callback crypto, the callback
gate (signature, size, replay), answer bookkeeping and error classification."""
