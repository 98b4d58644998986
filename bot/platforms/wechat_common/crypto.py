"""Callback signatures and encryption of the Official Account and WeCom.

Official Account: `signature` = sha1(sort(token, timestamp, nonce)) is always in the query,
so it is checked before the body is read. With an `encoding_aes_key` configured only
encrypted callbacks (safe or compatible mode: `encrypt_type=aes`) are accepted, and
`msg_signature` = sha1(sort(token, timestamp, nonce, Encrypt)) authenticates the body; the
<Encrypt> element is authoritative. WeCom callbacks are always encrypted and carry only
`msg_signature` (the GET verification's echostr too).

A signature never expires: a callback signed more than MAX_SKEW seconds from our clock is
refused like a forged one (WeChat's retries, within about 15 s, stay well inside), and the
callback gate (bot/platforms/wechat_common/gate.py) refuses a second sighting inside the window.

Every refusal is a `CallbackRefused` carrying the status and the fixed public text of its
class; the message is for the log and never holds request or decrypted content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.crypto.base import WeChatCipher

MAX_BODY_BYTES = 64 * 1024
MAX_SKEW = 300.0  # seconds between a callback's timestamp and our clock
# Unix seconds need 10 digits until the year 2286; the cap also bounds int()'s work.
_TIMESTAMP_DIGITS = 12
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_ECHOSTR = re.compile(r"[0-9A-Za-z_-]{1,128}")  # OA plaintext echostr: echoed, not signed
_MAX_ENCRYPTED_ECHO = 1024
EpochSeconds = Callable[[], float]  # time.time: signed timestamps are Unix seconds


class CallbackRefused(Exception):
    """A callback we do not act on; `status` and `public` are all the caller learns."""

    status: ClassVar[int] = 400
    public: ClassVar[str] = "bad request"


class BadSignature(CallbackRefused):
    """Not signed with our token (or unsigned): answer 403 and do nothing."""

    status = 403
    public = "bad signature"


class Stale(BadSignature):
    """Signed, but at a time too far from now (a replay): answer 403 and do nothing."""


class Replayed(BadSignature):
    """Signed and fresh, but accepted once already: answer 403 and do nothing."""


class BadRequest(CallbackRefused):
    """Signed correctly (or not yet checked) but unreadable: every cause answers alike."""


class TooLarge(CallbackRefused):
    """The body is over MAX_BODY_BYTES: answered at once, the rest is never read."""

    status = 413
    public = "too large"


@dataclass(frozen=True, slots=True)
class Stamp:
    """What the sender signed: the key of the replay memo."""

    signed_at: int
    nonce: str
    signature: str  # the one that authenticates the whole request


@dataclass(frozen=True, slots=True)
class Decoded:
    xml: str
    encrypted: bool  # answer encrypted too
    stamp: Stamp


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise BadSignature(f"missing {name}")
    return value


def _timestamp(query: Mapping[str, str], clock: EpochSeconds) -> int:
    raw = _param(query, "timestamp")
    # str.isdigit() also accepts non-ASCII digits, which int() would convert
    if len(raw) > _TIMESTAMP_DIGITS or not (raw.isascii() and raw.isdigit()):
        raise BadSignature("timestamp is not a number")
    signed_at = int(raw)
    if abs(clock() - signed_at) > MAX_SKEW:
        raise Stale(f"timestamp {signed_at} is over {MAX_SKEW:.0f} s from now")
    return signed_at


def _matching(query: Mapping[str, str], name: str, form: re.Pattern[str]) -> str:
    value = _param(query, name)
    if not form.fullmatch(value):
        raise BadSignature(f"malformed {name}")
    return value


def _signed(query: Mapping[str, str], clock: EpochSeconds, signature: str) -> Stamp:
    """Form and freshness of (timestamp, nonce, `signature`); the signature is not checked."""
    signed_at = _timestamp(query, clock)
    nonce = _matching(query, "nonce", _NONCE)
    return Stamp(signed_at, nonce, _matching(query, signature, _SHA1).lower())


def _check(signature: str, token: str, *parts: str) -> None:
    """WeChat's signature: sha1 of the sorted, concatenated parts (compared in constant time)."""
    expected = hashlib.sha1("".join(sorted((token, *parts))).encode()).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise BadSignature("signature does not match")


class _Cipher:
    """AES-256-CBC with the key's first 16 bytes as IV, as WeChat encrypts; strict parsing.

    Plaintext: 16 random bytes, a 4-byte big-endian length, the message, the receiver id
    (app id or corp id), PKCS#7 padding to 32 bytes. wechatpy's decrypt trusts the padding
    and the length; here each field is checked and every failure is a plain BadRequest.
    """

    def __init__(self, encoding_aes_key: str, receiver_id: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
        if len(key) != 32:
            raise ValueError("encoding_aes_key must be 43 base64 characters (a 32-byte key)")
        self._key = key
        self._receiver = receiver_id.encode()

    def open(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("undecryptable: not base64") from None
        if not raw or len(raw) % 16:
            raise BadRequest("undecryptable: not whole AES blocks")
        plain = WeChatCipher(self._key).decrypt(raw)
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
            raise BadRequest("undecryptable: bad padding")
        content = plain[16:-pad]
        size = int.from_bytes(content[:4], "big")
        if len(content) < 4 or size > len(content) - 4:
            raise BadRequest("undecryptable: bad length field")
        if not hmac.compare_digest(content[4 + size :], self._receiver):
            raise BadRequest("undecryptable: wrong receiver id")
        try:
            return content[4 : 4 + size].decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("undecryptable: message is not UTF-8") from None


def _envelope(body: bytes) -> str:
    """The <Encrypt> text of an encrypted callback's XML body."""
    try:
        # xmltodict refuses entity declarations (no billion laughs); expat fetches nothing
        parsed: Any = xmltodict.parse(_text(body))
        encrypted = parsed["xml"]["Encrypt"]
    except BadRequest:
        raise
    except Exception:  # expat errors, no <xml>, no <Encrypt>: all just unreadable
        raise BadRequest("envelope: not an encrypted callback") from None
    if not isinstance(encrypted, str) or not encrypted:
        raise BadRequest("envelope: empty <Encrypt>")
    return encrypted


class OfficialCodec:
    platform: ClassVar[str] = "wechat"

    def __init__(
        self,
        token: str,
        encoding_aes_key: str | None,
        app_id: str,
        *,
        clock: EpochSeconds = time.time,
    ) -> None:
        self._token = token
        self._cipher = _Cipher(encoding_aes_key, app_id) if encoding_aes_key else None
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self._clock = clock

    @property
    def safe_only(self) -> bool:
        """With an AES key configured, plaintext callbacks are refused."""
        return self._cipher is not None

    def _check_plain(self, query: Mapping[str, str]) -> Stamp:
        stamp = _signed(query, self._clock, "signature")
        _check(stamp.signature, self._token, query["timestamp"], stamp.nonce)
        return stamp

    def verify(self, query: Mapping[str, str]) -> str:
        """GET: the echostr to answer when the signature is ours."""
        self._check_plain(query)
        echostr = query.get("echostr", "")
        if not _ECHOSTR.fullmatch(echostr):
            raise BadRequest("malformed echostr")
        return echostr

    def precheck(self, query: Mapping[str, str]) -> None:
        """Before the body is read: `signature` is checked, the mode is the configured one."""
        self._check_plain(query)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.safe_only and not encrypted:
            raise BadSignature("plaintext callback, but safe mode is configured")
        if not self.safe_only and encrypted:
            raise BadRequest("encrypted callback, but no encoding_aes_key is configured")
        if encrypted:
            _matching(query, "msg_signature", _SHA1)

    def decode(self, query: Mapping[str, str], body: bytes) -> Decoded:
        self.precheck(query)
        if self._cipher is None:
            return Decoded(_text(body), encrypted=False, stamp=self._check_plain(query))
        stamp = _signed(query, self._clock, "msg_signature")
        encrypted = _envelope(body)
        _check(stamp.signature, self._token, query["timestamp"], stamp.nonce, encrypted)
        return Decoded(self._cipher.open(encrypted), encrypted=True, stamp=stamp)

    def encode(self, xml: str, decoded: Decoded, nonce: str) -> str:
        if not decoded.encrypted or self._crypto is None:
            return xml
        return str(self._crypto.encrypt_message(xml, nonce, str(int(time.time()))))


class WecomCodec:
    platform: ClassVar[str] = "wecom"

    def __init__(
        self, token: str, encoding_aes_key: str, corp_id: str, *, clock: EpochSeconds = time.time
    ) -> None:
        self._token = token
        self._cipher = _Cipher(encoding_aes_key, corp_id)
        self._clock = clock

    def verify(self, query: Mapping[str, str]) -> str:
        stamp = _signed(query, self._clock, "msg_signature")
        echostr = _param(query, "echostr")
        if len(echostr) > _MAX_ENCRYPTED_ECHO:
            raise BadRequest("echostr too long")
        _check(stamp.signature, self._token, query["timestamp"], stamp.nonce, echostr)
        return self._cipher.open(echostr)

    def precheck(self, query: Mapping[str, str]) -> None:
        """Before the body is read: the signature covers the body, so form and freshness."""
        _signed(query, self._clock, "msg_signature")

    def decode(self, query: Mapping[str, str], body: bytes) -> Decoded:
        stamp = _signed(query, self._clock, "msg_signature")
        encrypted = _envelope(body)
        _check(stamp.signature, self._token, query["timestamp"], stamp.nonce, encrypted)
        return Decoded(self._cipher.open(encrypted), encrypted=True, stamp=stamp)


def _text(body: bytes) -> str:
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge("body too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
