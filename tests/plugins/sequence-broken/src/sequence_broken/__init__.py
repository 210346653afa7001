import this_module_does_not_exist  # noqa: F401  - the failure the test suite expects
