"""BRIEF FOR THE ENGINEER BUILDING THIS PACKAGE (replace this docstring when you implement it):
the placeholders <<COMMON>> and <<CONTRACT>> in your task text stand for the files
/tmp/briefs/common.md (project rules: repo /work/main, venv /work/main/.venv, commit rules, standards)
and /tmp/briefs/resilient_contract.md (the simulator + client API contract). Read both now.
"""
