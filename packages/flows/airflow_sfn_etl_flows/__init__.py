"""The two reference flows' deployment: settings, and idempotent creation of their AWS resources."""
