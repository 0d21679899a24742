"""Write the API's OpenAPI document to the given path; the UI's typed client is generated from it.

Run from the repository root: `uv run python frontend/scripts/dump_openapi.py frontend/openapi.json`.
"""

import json
import sys
import tempfile
from pathlib import Path

from tripl.app import create_app
from tripl.config import Settings

with tempfile.TemporaryDirectory() as data_dir:
    document = create_app(Settings(data_dir=Path(data_dir))).openapi()
Path(sys.argv[1]).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
