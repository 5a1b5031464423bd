"""Names the optimised build and its loader agree on (standard library only, no imports).

Kept apart from ``build_runtime`` so that importing the package does not import
that command-line module (``python -m sandbox.build_runtime`` would warn).
"""

from __future__ import annotations

BUILD_NAME = "cpython-3.11-o3"  # the folder under <sandbox cache>/runtimes/, and the runtime's name
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "swarm-sandbox-runtime/1"
