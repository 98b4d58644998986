"""WeChat Official Account (公众号): the signed-XML callback, tag-based mass-send campaigns
and the customer-service message sender."""
