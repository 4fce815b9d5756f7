"""Example Gemini prices for the cost report, in a module of their own: the CLI shows them as
option defaults, and importing them must not import the report (pydantic, rich, the records)."""

# Example prices only (USD per 1,000 tokens, in the range of Gemini Flash-class list prices at the
# time of writing): the report is arithmetic on whatever prices the user passes.
EXAMPLE_INPUT_PRICE_PER_1K = 0.0003
EXAMPLE_OUTPUT_PRICE_PER_1K = 0.0025
