"""Write the app's OpenAPI document to ui/openapi.json (sorted keys, stable bytes).

Run by `make ui` before generating ui/src/lib/api/schema.d.ts from it, so the
typed client always matches the routes the server really has.
"""

import json
import sys
import tempfile
from pathlib import Path

from meshhook.app import create_app
from meshhook.settings import Settings

with tempfile.TemporaryDirectory() as home:
    settings = Settings(home=Path(home), database_url=f"sqlite:///{home}/openapi.db", bootstrap=False)
    document = create_app(settings).openapi()
target = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "openapi.json")
target.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
