"""Quality measurements of the AI tools: one module per tool (``evaluate(real_data, work)``)."""
