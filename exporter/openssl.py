"""Two OpenSSL settings Python's `ssl` module does not expose, set on an `ssl.SSLContext`.

exporter-toolkit's web config may list several `curve_preferences` (Python sets one curve at
most) and ask for `RequireAnyClientCert` / `RequestClientCert`: a client certificate taken
without verifying it (Python verifies every certificate it asks for, with no callback to say
otherwise). Both are one OpenSSL call on the context's `SSL_CTX`, made here through the `_ssl`
extension's own libssl, loaded when first needed. The `SSL_CTX` pointer is the first field
after the object header of CPython's `PySSLContext`; `_ctx()` checks it against the context's
verify mode before use.
"""

from __future__ import annotations

import _ssl
import ctypes
import functools
import ssl
import sys

_SSL_CTRL_SET_GROUPS_LIST = 92
"""`SSL_CTX_set1_groups_list()` is a macro over `SSL_CTX_ctrl()` with this command."""
_SSL_VERIFY_BITS = {ssl.CERT_NONE: 0, ssl.CERT_OPTIONAL: 1, ssl.CERT_REQUIRED: 3}
"""`SSL_VERIFY_PEER` (1) and `SSL_VERIFY_FAIL_IF_NO_PEER_CERT` (2) per Python verify mode."""
_VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


class OpenSSLUnavailable(Exception):
    """This Python cannot reach its OpenSSL (not CPython, or an unexpected layout)."""


def _accept(preverify_ok: int, store: int | None) -> int:
    return 1


_ACCEPT_ANY = _VerifyCallback(_accept)
"""Kept for the life of the process: OpenSSL calls it during handshakes."""


@functools.cache
def _libssl() -> ctypes.CDLL:
    """The libssl `_ssl` was linked with (the process itself where `_ssl` is built in)."""
    try:
        lib = ctypes.CDLL(getattr(_ssl, "__file__", None))
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_char_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VerifyCallback]
        lib.SSL_CTX_set_verify.restype = None
    except (OSError, AttributeError) as exc:
        raise OpenSSLUnavailable(f"cannot reach Python's libssl: {exc}") from exc
    return lib


def _ctx(context: ssl.SSLContext) -> int:
    if sys.implementation.name != "cpython":
        raise OpenSSLUnavailable(f"needs CPython, not {sys.implementation.name}")
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    expected = _SSL_VERIFY_BITS[context.verify_mode]
    if not pointer or _libssl().SSL_CTX_get_verify_mode(pointer) & 3 != expected:
        raise OpenSSLUnavailable("this Python's SSLContext has an unexpected layout")
    return pointer


def set_groups(context: ssl.SSLContext, groups: list[str]) -> None:
    """Offer exactly these key exchange groups (OpenSSL names, in order of preference)."""
    names = ":".join(groups).encode()
    if _libssl().SSL_CTX_ctrl(_ctx(context), _SSL_CTRL_SET_GROUPS_LIST, 0, names) != 1:
        raise ssl.SSLError(f"OpenSSL refused the groups {':'.join(groups)}")


def verify_client_certificates(context: ssl.SSLContext, verify: bool) -> None:
    """`verify=False`: a client certificate is asked for as `context.verify_mode` says but
    taken whatever its issuer (Go's RequireAnyClientCert, RequestClientCert); `True`:
    OpenSSL's own verification (set it again after a reload turned it off)."""
    if verify and sys.implementation.name != "cpython":
        return  # nothing of ours can be on the context
    callback = _VerifyCallback() if verify else _ACCEPT_ANY  # a null one: OpenSSL's own check
    _libssl().SSL_CTX_set_verify(_ctx(context), _SSL_VERIFY_BITS[context.verify_mode], callback)
