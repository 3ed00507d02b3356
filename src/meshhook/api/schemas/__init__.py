"""Request and response bodies of the HTTP API, one module per area.

Route modules (``api/*.py``) import their models from here and stay thin. Every
response either is such a model or, for speed, raw JSON checked against the
route's declared ``response_model`` by ``tests/integration/test_response_models.py``.
"""
