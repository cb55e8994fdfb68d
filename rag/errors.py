"""Errors meant for a person: the CLI and the app print their message, never a traceback.

Every error the user can cause (a bad file, a missing folder, an index built
with another model, a bad question) is a ``RagError`` subclass whose message
says what is wrong and, where there is one, what to run.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: ``str(err)`` is a complete sentence for the user."""


class ConfigError(RagError):
    """A setting has a value that cannot work."""


class IngestError(RagError):
    """One input file (or one line of a feed) could not be turned into an article."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class IndexMissingError(RagError):
    """There is no index yet."""


class IndexCorruptError(RagError):
    """The index on disk is damaged."""


class IndexWriteError(RagError):
    """A new build could not be written (disk full, no permission); the index in use is unchanged."""


class IndexMismatchError(RagError):
    """The index was built with another model, dimension or format."""


class ModelError(RagError):
    """The embedding model cannot be found, built or loaded."""


class QuestionError(RagError):
    """The question cannot be asked as it is (empty, too long, ...)."""
