"""The audit tests use the review tests' world (units, accounts per role, activities)."""

from tests.review.conftest import media_root, world  # noqa: F401  (fixtures)
