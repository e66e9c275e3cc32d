"""A cheap Argon2 for the test suite only (settings use it when pytest runs).

The production hasher (Django's ``Argon2PasswordHasher``: 100 MiB, 2 passes) takes about 0.3 s a
hash on the CI machine and the suite creates hundreds of accounts. Same algorithm and encoding, so
the hashes it writes are read by the production hasher too.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 256
    parallelism = 1
