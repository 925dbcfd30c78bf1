"""Python path entries for glueetl runs: the ``awsglue`` package the sandbox emulates."""
