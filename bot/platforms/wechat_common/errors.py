"""WeChat / WeCom API errors -> the delivery contract's classified send errors."""

from __future__ import annotations

from wechatpy.exceptions import WeChatClientException

from bot.delivery.types import ChatGone, Permanent, RetryAfter, SendError, Transient

FLOOD_PAUSE = 60.0  # WeChat does not say how long: wait out the minute windows
# 45009 api freq out of limit, 45033 per-user frequency (WeCom), 45011 api minute quota.
FLOOD = frozenset({45009, 45011, 45033})
# -1 system busy; 45035 / 48002 temporarily refused.
TRANSIENT = frozenset({-1})
# 40003 invalid openid, 43004 not a follower (公众号); 81013 no valid recipient, 60111 unknown
# userid, 93000 robot webhook gone (WeCom).
GONE = frozenset({40003, 43004, 81013, 60111, 93000})


def classify(errcode: int | None, errmsg: str) -> SendError:
    detail = f"{errcode}: {errmsg}" if errcode is not None else errmsg
    if errcode is None or errcode in TRANSIENT:
        return Transient(detail)
    if errcode in FLOOD:
        return RetryAfter(FLOOD_PAUSE, detail)
    if errcode in GONE:
        return ChatGone(detail)
    return Permanent(detail)  # 45015/45047 out of the 客服 window, 45002 too long, ...


def classify_exception(exc: BaseException) -> SendError:
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, WeChatClientException):
        return classify(exc.errcode, str(exc.errmsg or exc))
    return Transient(f"{type(exc).__name__}: {exc}")  # timeouts, connection errors, ...
