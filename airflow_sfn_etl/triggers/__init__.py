"""Triggers: wait for AWS runs on the triggerer, without holding a worker slot."""
