"""Callback signatures and encryption of the Official Account and WeCom, via wechatpy.

Official Account modes: plaintext (only `signature`), compatible and safe (`encrypt_type=aes`
with `msg_signature`; the body's <Encrypt> is authoritative). WeCom callbacks are always
encrypted, including the GET verification's echostr.

A signature never expires, so a captured callback could be replayed at will: requests whose
signed `timestamp` is more than MAX_SKEW seconds from our clock are refused like forged ones.
WeChat's retries (within about 15 s of the first try) stay well inside that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WecomCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

MAX_BODY_BYTES = 64 * 1024
MAX_SKEW = 300.0  # seconds between a callback's timestamp and our clock
Clock = Callable[[], float]


class BadSignature(Exception):
    """The request was not signed with our token: answer 403 and do nothing."""


class Stale(BadSignature):
    """Signed, but at a time too far from now (a replay): answer 403 and do nothing."""


class BadRequest(Exception):
    """Signed correctly but unreadable."""


@dataclass(frozen=True, slots=True)
class Decoded:
    xml: str
    encrypted: bool  # answer encrypted too


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise BadSignature(f"missing {name}")
    return value


def _check_fresh(query: Mapping[str, str], clock: Clock) -> None:
    try:
        signed_at = int(_param(query, "timestamp"))
    except ValueError:
        raise BadSignature("timestamp is not a number") from None
    if abs(clock() - signed_at) > MAX_SKEW:
        raise Stale(f"timestamp {signed_at} is over {MAX_SKEW:.0f} s from now")


class OfficialCodec:
    def __init__(
        self, token: str, encoding_aes_key: str | None, app_id: str, *, clock: Clock = time.time
    ) -> None:
        self._token = token
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self._clock = clock

    def _check_plain(self, query: Mapping[str, str]) -> None:
        try:
            check_signature(
                self._token,
                _param(query, "signature"),
                _param(query, "timestamp"),
                _param(query, "nonce"),
            )
        except InvalidSignatureException:
            raise BadSignature("bad signature") from None
        _check_fresh(query, self._clock)

    def verify(self, query: Mapping[str, str]) -> str:
        """GET: the echostr to answer when the signature is ours."""
        self._check_plain(query)
        return query.get("echostr", "")

    def decode(self, query: Mapping[str, str], body: bytes) -> Decoded:
        self._check_plain(query)
        if query.get("encrypt_type", "raw").lower() != "aes":
            return Decoded(_text(body), encrypted=False)
        if self._crypto is None:
            raise BadRequest("encrypted callback but no encoding_aes_key configured")
        signature, text = _param(query, "msg_signature"), _text(body)
        try:
            xml = self._crypto.decrypt_message(text, signature, query["timestamp"], query["nonce"])
        except InvalidSignatureException:
            raise BadSignature("bad msg_signature") from None
        except Exception as exc:  # bad base64, padding, app id, XML: all unreadable
            raise BadRequest(f"undecryptable message: {exc!r}") from None
        return Decoded(str(xml), encrypted=True)

    def encode(self, xml: str, decoded: Decoded, nonce: str) -> str:
        if not decoded.encrypted or self._crypto is None:
            return xml
        return str(self._crypto.encrypt_message(xml, nonce, str(int(time.time()))))


class WecomCodec:
    def __init__(
        self, token: str, encoding_aes_key: str, corp_id: str, *, clock: Clock = time.time
    ) -> None:
        self._crypto = WecomCrypto(token, encoding_aes_key, corp_id)
        self._clock = clock

    def verify(self, query: Mapping[str, str]) -> str:
        signed = [_param(query, n) for n in ("msg_signature", "timestamp", "nonce", "echostr")]
        try:
            echo = self._crypto.check_signature(*signed)
        except InvalidSignatureException:
            raise BadSignature("bad msg_signature") from None
        except Exception as exc:
            raise BadRequest(f"undecryptable echostr: {exc!r}") from None
        _check_fresh(query, self._clock)
        return str(echo.decode() if isinstance(echo, bytes) else echo)

    def decode(self, query: Mapping[str, str], body: bytes) -> str:
        signed = [_param(query, n) for n in ("msg_signature", "timestamp", "nonce")]
        text = _text(body)
        try:
            xml = self._crypto.decrypt_message(text, *signed)
        except InvalidSignatureException:
            raise BadSignature("bad msg_signature") from None
        except Exception as exc:  # bad base64, padding, app id, XML: all unreadable
            raise BadRequest(f"undecryptable message: {exc!r}") from None
        _check_fresh(query, self._clock)
        return str(xml)


def _text(body: bytes) -> str:
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("body too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
