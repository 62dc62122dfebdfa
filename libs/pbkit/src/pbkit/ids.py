"""Identifiers: UUIDv7, so ids sort by creation time and serve as pagination keys."""

import uuid_utils


def new_id() -> str:
    return str(uuid_utils.uuid7())
