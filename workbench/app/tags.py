"""Every DearPyGui item tag of the app, in one place (panels and tests refer to these names)."""

VIEWPORT_TITLE = "Digit workbench"
WINDOW = "main_window"

# Textures
TEXTURES = "texture_registry"
PREVIEW_TEXTURE = "preview_texture"
SALIENCY_TEXTURE = "saliency_texture"
CAMERA_TEXTURE = "camera_texture"

# Draw panel
CANVAS = "draw_canvas"
CANVAS_BACKGROUND = "draw_canvas_background"
STROKES_LAYER = "draw_strokes"
BRUSH = "draw_brush"
CLEAR = "draw_clear"
UNDO = "draw_undo"
DRAW_RESULT = "draw_result"
PREVIEW = "draw_preview"
PROBABILITY_BARS = [f"draw_probability_{digit}" for digit in range(10)]
TOP_CLASSES = "draw_top_classes"
SALIENCY_TOGGLE = "draw_saliency_toggle"
SALIENCY = "draw_saliency"
TEACH_PREFIX = "draw_teach_"  # + digit: "that was a <digit>" buttons
TEACH_STATUS = "draw_teach_status"

# Camera panel
CAMERA_IMAGE = "camera_image"
CAMERA_STATUS = "camera_status"
CAMERA_READING = "camera_reading"
CAMERA_SNAPSHOT_STATUS = "camera_snapshot_status"
CAMERA_SOURCE = "camera_source"
CAMERA_OPEN = "camera_open"
CAMERA_PAUSE = "camera_pause"
CAMERA_SNAPSHOT = "camera_snapshot"

# Model panel
MODEL_TABLE = "model_table"
MODEL_STATUS = "model_status"
MODEL_USE_PREFIX = "model_use_"  # + model name: the "use" button of each row
COMPARE = "model_compare"
COMPARE_TABLE = "model_compare_table"

# Log panel
LOG_TAB = "log_tab"
LOG_TABLE = "log_table"
LOG_STATUS = "log_status"
LOG_RECORD = "log_record"
LOG_LABEL = "log_label"
LOG_CORRECT = "log_correct"
LOG_EXPORT_PATH = "log_export_path"
LOG_EXPORT = "log_export"
ADAPT = "log_adapt"
ADAPT_STATUS = "log_adapt_status"
