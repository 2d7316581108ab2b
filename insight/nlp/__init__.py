"""Language processing for calls: nothing heavy is imported or loaded here; import the module you need.

- ``pipelines``: spaCy + GiNZA (ja) / en_core_web_sm (en), loaded once per process; ``analyze`` for entities + dates.
- ``dates``: relative and absolute date expressions resolved against the call's date (no spaCy).
- ``pii``: PII redaction with typed placeholders and the spans to restore the original.
- ``sentiment``: per-utterance polarity in [-1, 1] and the call's overall sentiment.
- ``entities``: company/title rules and the competitor/product catalog; ``types``: the result dataclasses.
- ``minutes``: the offline minutes writer (``sentences``: the call cut into parsed sentences; ``slots``: the rule-filled
  fields; ``cues``: the per-language cue words; ``summarize``: the extractive summary over ``embeddings``);
  ``minutes_schema``: the minutes document; ``llm``: the optional OpenAI-compatible backend; ``render``: Markdown.
- ``service`` / ``tasks``: the analyze stage (redaction, then minutes, and their redacted copy); ``local``: the same
  for a file without a database.
"""
