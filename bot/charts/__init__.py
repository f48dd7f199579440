"""Charts as PNG bytes (matplotlib, Agg backend), loaded on first use: the class heatmap
(`class_chart`) of a skills × weeks `Matrix` (`matrix`, plain data). Imports nothing of the bot."""
