"""Project bucket changes onto a bucket list, to state what a plan leads to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ocs.core.wallets import Bucket, BucketChange


def apply_changes(buckets: Sequence[Bucket], changes: Iterable[BucketChange]) -> list[Bucket]:
    """The bucket list after the changes; new buckets keep id 0."""
    result = list(buckets)
    for c in changes:
        updated = replace(c.bucket, value=c.new_value, expires_at=c.expires_at)
        if c.bucket.id == 0:
            result.append(updated)
        else:
            result = [updated if b.id == c.bucket.id else b for b in result]
    return result
