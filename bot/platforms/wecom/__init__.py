"""WeCom (企业微信): the application callback, the batched application-message pusher,
group robots and the sender with its per-member limits."""
