"""The GenAI attribute names agentel writes are the semantic-conventions package's own."""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes

from agentel._conventions import names


def test_every_gen_ai_name_is_the_semconv_package_constant_of_the_same_name() -> None:
    ours = {key: value for key, value in vars(names).items() if key.startswith("GEN_AI_")}
    assert len(ours) == 31
    theirs = {key: getattr(gen_ai_attributes, key, None) for key in ours}
    assert theirs == ours  # the installed package (0.66b2 in dev) has each of them, with the same value
