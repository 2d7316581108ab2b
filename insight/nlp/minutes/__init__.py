"""The minutes writer: sentences and cues, slots, the extractive summary, rendering, the LLM backend."""
