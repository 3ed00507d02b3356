"""Password and token hashing, envelope encryption of the secrets vault, the
master key (environment value or key file) and private data files. Only
``keys.py`` and ``files.py`` touch the file system; nothing here uses the
database or HTTP."""
