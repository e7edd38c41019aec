"""Request and response bodies of the REST contract (documented at /docs), a module per domain."""
