"""How LSTM Lab draws: every chart, heatmap and table of the app, and the colours they share.

    palette            the ink of text and axes, the greys, the series colours, each architecture's colour
    svg                the parts of every SVG chart: frame, title, ticks, colour scales, cells as a PNG, hover boxes
    charts             small SVG charts: a line over a text, the saturation scatter, lines, bars, curves
    heatmaps           gate and state heatmaps, painted rows, the explorer's tensors
    matrices           a classifier's confusion matrix and ranked bars
    training_figures   training metrics as figures (loss, accuracy, signals), drawn by charts
    tables             static tables and plain HTML tables
    text_box           text a model wrote, in a grey monospace box

Each module is imported by name (``from lab_ui.render.charts import lines_svg``): a page loads only what it draws.
"""
