"""The quiz's rules (科普法·我知道·比比看, plan 六(三)1): ``law`` (the 2024 law's articles and the
support check), ``bank`` (questions and rounds as data, the Excel template), ``taking`` (profile,
start, submit), ``boards`` (roll-ups and leaderboards), ``certificates`` (PDF and verification)."""
