"""amlz-compile: AutoML-Zero algorithms as an IR that is simplified, JIT-compiled and exported."""

__version__ = "0.1.0"
