"""Errors raised by zhiku's stages.

Each carries a message a user can act on (in Chinese, with the English gist), so the CLI
and UI can show ``str(error)`` as is.
"""

from __future__ import annotations


class ZhikuError(Exception):
    """Base class of every error zhiku raises on purpose."""


class UnsupportedFormatError(ZhikuError):
    """The file's format cannot be read; the message says what to do instead."""


class UnreadableDocumentError(ZhikuError):
    """The file has the right format but cannot be read: encrypted, corrupt, or no text."""


class SettingsError(ZhikuError):
    """A setting has an invalid value; the message lists the valid ones."""
