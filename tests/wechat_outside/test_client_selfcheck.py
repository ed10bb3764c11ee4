"""The outside client checked against the public documentation's own examples, before it is
used to judge the service: a wrong client would make every other verdict worthless."""
from __future__ import annotations

import struct

import pytest

from tests.wechat_outside.wechat_client import (
    aes_key,
    decrypt,
    encrypt,
    pkcs7_pad,
    pkcs7_unpad_strict,
    sha1_sorted,
)


def test_signature_matches_the_docs_examples():
    # 消息推送 / 接入指南, Token "AAAAA": the URL check and the plain push examples.
    assert sha1_sorted("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert sha1_sorted("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


def test_pkcs7_pads_to_32_byte_blocks_with_a_full_block_when_aligned():
    assert len(pkcs7_pad(b"x" * 31)) == 32 and pkcs7_pad(b"x" * 31)[-1] == 1
    assert pkcs7_pad(b"x" * 32)[32:] == bytes([32]) * 32
    with pytest.raises(AssertionError):
        pkcs7_unpad_strict(b"x" * 31 + bytes([2]))  # pad bytes differ
    with pytest.raises(AssertionError):
        pkcs7_unpad_strict(b"x" * 16)  # not a 32-byte multiple


def test_envelope_layout_random16_length_xml_appid():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    import base64

    xml = "<xml><Content><![CDATA[你好]]></Content></xml>"
    enc = encrypt(xml, app_id="wxabc")
    key = aes_key()
    raw = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor().update(base64.b64decode(enc))
    body = pkcs7_unpad_strict(raw)
    assert struct.unpack("!I", body[16:20])[0] == len(xml.encode("utf-8"))
    assert body[20:].decode("utf-8") == xml + "wxabc"
    assert decrypt(enc) == (xml.encode("utf-8"), "wxabc")
