"""Export an algorithm as a standalone NumPy module, and verify exported modules.

`backends/numpy_export.py` renders the source; this package adds what needs the rest of the
package: simplification, self-test vectors computed by the reference interpreter on small
synthetic tasks (`self_tests`), writing the file (`write`), reading it as data (`read`) and
`verify_file` (`verify`).

`verify_file` does not trust the file it checks. It parses it with `ast` (it never imports it)
and reads the embedded algorithm (`ALGORITHM_JSON`), `METADATA` and the self-test inputs as
literal data; it recomputes the expected outputs with the interpreter, adds inputs of its own
drawn at verify time, and runs the module's code (`run_protocol` and the estimators) on all of
them in a separate Python process (`export_runner.py`). The file passes only when that process
exits normally with outputs that match the recomputation. The outputs recorded in SELF_TESTS
are not used: they are what `python module.py` checks on machines without amlz.
"""

from ..backends.numpy_export import ExportError
from .read import ExportedFile, read_export
from .self_tests import make_self_tests
from .verify import VerifyResult, verify_file
from .write import export_algorithm, export_source, load_module

__all__ = [
    "ExportError",
    "ExportedFile",
    "VerifyResult",
    "export_algorithm",
    "export_source",
    "load_module",
    "make_self_tests",
    "read_export",
    "verify_file",
]
