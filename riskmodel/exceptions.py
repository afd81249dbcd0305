"""The errors riskmodel raises. Each says what went wrong, with which value, and what to do next."""

from __future__ import annotations


class RiskModelError(Exception):
    """Base class of every riskmodel error."""


class ConfigError(RiskModelError, ValueError):
    """A configuration file is missing, unreadable or inconsistent."""


class InputFileError(RiskModelError, ValueError):
    """An input file cannot be used at all: unreadable, wrong format, or a required column is missing."""


class SchemaMismatchError(RiskModelError, ValueError):
    """A model or a feature frame does not match what the code expects."""


class ModelNotFoundError(RiskModelError, LookupError):
    """No model is registered, aliased or stored where one was asked for."""


class PromotionRefusedError(RiskModelError):
    """The promotion gate refused a challenger; the message shows the metrics side by side."""


class StoreError(RiskModelError):
    """The result store holds no completed batch, or cannot be reached."""


class StoreBusyError(StoreError):
    """Another run holds the store's write lock (exit code 4)."""


class PublishRefusedError(RiskModelError):
    """A scored batch was not published: nothing was scored, or too much was rejected (exit code 3)."""
