"""Password and token hashing, and (later) envelope encryption. Pure functions
over bytes and strings: no database, no HTTP."""
