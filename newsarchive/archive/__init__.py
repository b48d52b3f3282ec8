"""What outlived the archive's own layout: the version ordering rule (``versions``) and, for
``newsarchive migrate``, a read-only reader of that layout (``legacy``)."""
