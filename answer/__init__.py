"""The answer domain: question analysis, evidence, answerability, composers, verification, drafting.

It receives retrieved passages and never opens a store itself; ``answer.pipeline`` is the one
path from a question to a verified ``Answer`` for ask and draft alike.
"""
