"""Constants of the lesson: class names, defaults, slider ranges and every tuned number."""

# No side effects: only plain values, no imports of the app. Every public number of cifar_core
# and the pages lives here (tests/test_constants.py checks cifar_core; settings.py holds the
# environment variables). A module that uses one imports it from here by name.

from __future__ import annotations

# --- The data set ---------------------------------------------------------------------------------

# The ten CIFAR-10 classes, in label order (batches.meta lists them the same way).
CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
NUM_CLASSES = 10
CIFAR_SIZE = 32  # the side of every CIFAR-10 image, in pixels
IMAGE_SHAPE = (CIFAR_SIZE, CIFAR_SIZE, 3)
FULL_TRAIN_SIZE = 50_000
FULL_TEST_SIZE = 10_000
DOWNLOAD_MB = 170
MB = 1024 * 1024  # one MB (MiB) in bytes: uploads and the run store count in these

# The environment variables the app reads, and their defaults: cifar_core/settings.py.

# --- Models and training defaults -----------------------------------------------------------------

# Model names and their labels in the UI.
MODEL_NAMES: tuple[str, ...] = ("shallow", "deep")
MODEL_LABELS = {"shallow": "Shallow (1 conv layer)", "deep": "Deep (4 conv layers)"}

# Training defaults, as in the lesson (RMSprop, lr 0.001, batch 128, validation 0.2),
# but on a subset and few epochs so that a first run finishes in about a minute on 2 CPU cores.
DEFAULT_MODEL = "deep"
DEFAULT_TRAIN_SIZE = 5_000
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 128
DEFAULT_OPTIMIZER = "rmsprop"
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_VAL_SPLIT = 0.2
DEFAULT_SEED = 42

OPTIMIZERS: tuple[str, ...] = ("rmsprop", "adam", "sgd")
OPTIMIZER_LABELS = {
    "rmsprop": "RMSprop (the lesson's)",
    "adam": "Adam",
    "sgd": "SGD (momentum 0.9)",
}

# Ranges for the Train page widgets.
TRAIN_SIZE_MIN = 100
TRAIN_SIZE_STEP = 100
EPOCHS_MIN, EPOCHS_MAX = 1, 50
BATCH_SIZES: tuple[int, ...] = (32, 64, 128, 256, 512)
LEARNING_RATES: tuple[float, ...] = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)

# --- The training queue, the teacher's limits, live polling ---------------------------------------

# How many trainings may run at the same time in one server process (2-core host → 1).
DEFAULT_MAX_TRAININGS = 1

# Limits a teacher can change (see limits.Limits). On this project's 2-core host the deep net
# trains about 870 images/s in float32 and 1,400 in bfloat16 (whole fit, bench/precision.py,
# 2026-11-30), so 200,000 image-passes (e.g. 20,000 images × 10 epochs, or the full 40,000 × 5)
# take about 2.5–4 minutes, longer on a slower host; a class of 30 with distinct settings then
# waits at most MAX_QUEUE runs. The wall-clock limit bounds what a budget cannot: a slow machine
# or a batch size of 32.
DEFAULT_MAX_IMAGE_EPOCHS = 200_000
DEFAULT_MAX_RUN_MINUTES = 15.0
DEFAULT_MAX_QUEUE = 8

# Training speed in float32 on a 2-core CPU (images/s over a whole fit: bench/precision.py on
# this project's machine, 2026-11-30, deep 831–876 and shallow 1,861–2,105) until this server
# has measured its own; used only for queue-time estimates.
EXPECTED_IMAGES_PER_SECOND = {"deep": 870.0, "shallow": 1950.0}

# How often (seconds) the live view polls a running job: once a second, and less often for a
# session that joins a job many already watch — every ceil(watchers / POLL_BUDGET_PER_SECOND)
# seconds, at most MAX_POLL_SECONDS — so a class of 30 joining one run polls it about 12
# times a second in all instead of 30, and a class of 50 about 16 instead of 50.
POLL_SECONDS = 1.0
POLL_BUDGET_PER_SECOND = 5
MAX_POLL_SECONDS = 5.0

# Presence (training.presence): a session still counts as watching until it missed this many
# polls in a row...
PRESENCE_POLLS = 3
# ...and at least this long: a full page rerun between two polls can take a few seconds.
PRESENCE_MIN_SECONDS = 5.0

# Finished jobs the queue keeps for attaching (a later identical request gets the saved result
# at once).
KEEP_FINISHED = 64

# --- The training job (training.job) --------------------------------------------------------------

# How many training images to score for the "does your model remember?" comparison.
MEMBERSHIP_SAMPLE = 1000
PREDICT_BATCH = 256
# Batches make_dataset keeps ready ahead of the model (a fixed prefetch: autotuning is off).
PREFETCH_BATCHES = 2

# Precision (training.precision): bfloat16 is kept only if it is at least this much faster: on
# a CPU where both are about equal, float32's extra accuracy wins and noise in the calibration
# cannot flip the choice.
MIN_SPEEDUP = 1.1
# Calibration: batches of the default size, after one batch that traces the model.
CALIBRATION_STEPS = 4

# Warm-up (training.warmup): seconds after the first page view before warming up: the first
# page is on screen by then.
WARMUP_DELAY_S = 3.0

# --- Results: the result grid and "did it learn?" (evaluation) ------------------------------------

# How many test images the result grid shows.
RESULT_GRID_SIZE = 24
CORRECT_RGB = (0, 150, 60)  # green frame: the model got it right
WRONG_RGB = (220, 20, 20)  # red frame: a mistake (the caption also says ✗, not colour alone)
# A test accuracy at most this far above guessing (1 / classes: 10% for CIFAR-10) is "near chance".
NEAR_CHANCE_MARGIN = 0.05
# A run that gives one class to at least this share of the test images "answers one class".
ONE_CLASS_SHARE = 0.8
# Learning rates worth trying first, per optimizer (the lesson's RMSprop 0.001; SGD needs more).
GOOD_START_LR = {"rmsprop": 0.001, "adam": 0.001, "sgd": 0.01}
# Lesson experiments (lessons.py): the train − validation gap is measured as the mean over the
# last epochs: one epoch's validation accuracy jumps by several points at these budgets.
GAP_EPOCHS = 3

# --- The run store (runs) -------------------------------------------------------------------------

# Run-store budget (see runs.RunStore.prune): the oldest runs are removed beyond these. A
# finished run is about 30 MB (deep) to 70 MB (shallow: more weights) — model, weights, best
# weights, predictions — so 2,000 MB holds 30–60 of them. A run still "running" whose folder
# changed this recently is never removed, even if no live job claims it.
DEFAULT_RUNS_MAX_MB = 2000
DEFAULT_RUNS_MAX_COUNT = 100
RUNS_RUNNING_GRACE_SECONDS = 30 * 60

# Reading a run's files, all untrusted (runs.files, runs.binary, runs.checks). The most bytes
# read of one file: a long run's history (and its predictions) are tens of MB, the other JSON
# files a few kB; model files are only read whole for a download.
LARGE_FILE_READ_LIMIT = 256 * MB  # history.json and predictions.npz
READ_LIMIT = 16 * MB  # every other file read whole
DOWNLOAD_LIMIT = 2048 * MB
NPZ_MAX_BYTES = 512 * MB  # all arrays of predictions.npz together, unpacked
PROBLEM_MAX = 160  # characters of a damaged run's problem (it is shown in select boxes)
# Times from 1970 up to the year 3000: anything else is not when a run was made.
LATEST_TIME = 32_503_680_000.0
COUNT_MAX = 10**12  # images, steps, parameters: far above any real run, far below overflow
SECONDS_MAX = 1e9

# --- Live curves ----------------------------------------------------------------------------------

# Live curves at constant cost (see curve_points.BatchSeries): a run keeps at most this many
# per-batch points, merging neighbours (mean, min and max) as it grows, so a chart of a
# 62,500-batch run costs what one of 500 batches does. Even, so that pairs merge evenly.
MAX_CURVE_POINTS = 500
# Ready live charts kept for all sessions (live_view.LIVE_CHARTS): one per job and version.
LIVE_CHART_CACHE_SIZE = 32

# --- A student's own photo (images, the Augmentation lab's upload) --------------------------------

MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * MB
# 50 megapixels covers every phone photo; beyond it decoding alone would take >150 MB of memory.
MAX_PIXELS = 50_000_000
# The smallest photo accepted, per side: below 8×8 the 32×32 version is a few blown-up blocks
# (a 1×1 upload would be one flat colour), nothing a student can learn from.
MIN_UPLOAD_SIDE = 8

# --- Augmentation settings (augmentation.params, augmentation.advice) -----------------------------

# What AugmentParams accepts. Shifts are capped at one CIFAR-10 image width (32 px).
MAX_ROTATION_DEG = 180.0
MAX_SHIFT_PX = 32.0
MAX_SHEAR_DEG = 45.0  # tan(45°) = 1 is the largest shear keras.layers.RandomShear accepts.
MAX_ZOOM = 2.0  # keras.layers.RandomZoom accepts factors up to +1, i.e. scale 2.
MAX_BRIGHTNESS = 3.0

# Slider ranges for the Augmentation lab, as (min, max, step): narrower than the limits above.
AUGMENT_LIMITS: dict[str, tuple[float, float, float]] = {
    "rotation_range": (0.0, 180.0, 5.0),
    "width_shift_range": (0.0, 0.5, 0.05),
    "height_shift_range": (0.0, 0.5, 0.05),
    "shear_range": (0.0, 45.0, 1.0),
    "zoom_range": (0.0, 0.9, 0.05),
    "cval": (0.0, 255.0, 1.0),
    "brightness_range": (0.0, 2.0, 0.05),
}

# Thresholds of label_warnings(): beyond them an augmented picture may no longer show its label.
WARN_SHIFT_FRACTION = 0.3
WARN_SHIFT_PX = 10.0
WARN_ROTATION_DEG = 90.0
WARN_SHEAR_DEG = 30.0
WARN_ZOOM_OUT = 1.5
WARN_ZOOM_IN = 0.5
WARN_BRIGHTNESS = (0.3, 2.0)

# The brightness range slider cannot say "None": (1, 1) means "no brightness change".
BRIGHTNESS_OFF = (1.0, 1.0)

# --- The Augmentation lab's preview (augmentation.preview, pages/augmentation_lab.py) -------------

NUM_TO_AUGMENT = 5  # variants per image, as in the notebooks' preview loop
DEFAULT_NUM_IMAGES = 8
MIN_NUM_IMAGES, MAX_NUM_IMAGES = 1, 16
LAB_DEFAULT_CLASS = 0  # the class "By class" shows first: airplane, the first in label order
MIN_SEED = 0
DEFAULT_PREVIEW_SEED = 0
MAX_SEED = 2**31 - 1  # every seed control's range (a 32-bit seed): the lab, Train and the lesson
MOSAIC_SCALE = 3  # 32 px → 96 px on screen, nearest neighbour so pixels stay visible
UPLOAD_SCALE = 8  # the uploaded photo at 32×32, shown 256 px wide
UPLOAD_MAX_WIDTH = 320  # the uploaded photo at full size is shown at most this wide…
UPLOAD_MAX_HEIGHT = 480  # …and this high (a tall panorama stays small too)

# Mosaic layout, in screen pixels.
MOSAIC_GAP = 4
MOSAIC_LABEL_WIDTH = 88
MOSAIC_HEADER_HEIGHT = 22
MOSAIC_FONT_SIZE = 13
MOSAIC_BACKGROUND = (255, 255, 255)
MOSAIC_TEXT_COLOUR = (49, 51, 63)

# --- Bias & privacy (bias_privacy.analysis, pages/bias_privacy.py) --------------------------------

# The "one threshold, two groups" demo: score range, slider ranges.
SCORE_MIN, SCORE_MAX, SCORE_STEP = 0.0, 1.0, 0.01
SPREAD_MIN, SPREAD_MAX, SPREAD_STEP = 0.02, 0.25, 0.01
DEFAULT_THRESHOLD = 0.60
SIMULATED_PAIRS = 5_000  # simulated comparisons per group and kind, for the "measured" rates
SIMULATION_SEED = 0
DENSITY_POINTS = 201  # points per curve in the score chart
# Two groups' error rates less than this ratio apart are "about equally often" on the page.
ABOUT_EQUAL_RATIO = 1.05

# The membership-inference demo (training vs test confidence).
CONFIDENCE_BINS = 20
# Below this mean gap (2 points of confidence) there is no overfitting worth reporting, even if a
# threshold separates the sets a little (e.g. because their class mix differs).
SMALL_MEAN_GAP = 0.02
# The attack's chance level: its best accuracy when members and non-members are shuffled
# together (nothing to find), here the 95th percentile over a few seeded shuffles.
CHANCE_SHUFFLES = 40
CHANCE_QUANTILE = 0.95
CHANCE_SEED = 0

# The page: saved runs whose analysis is kept (one entry per run), and the quiz's seeds (one
# option order per session, drawn from 0 to QUIZ_SEEDS - 1).
RUN_VIEW_CACHE_ENTRIES = 16
QUIZ_SEEDS = 2**31

# --- Figures the Home page quotes -----------------------------------------------------------------

# Measured with this app on this project's 2-core machine (seed 42, mixed bfloat16; sources:
# bench/lessons.py and `bench/precision.py --accuracy`, figures in the README): (budget,
# shallow, deep) test accuracy. Other seeds move each number by several points.
APP_MEASURED = (
    (
        "4,000 training + 1,000 validation images, 5 epochs (the Train page's defaults)",
        0.420,
        0.391,
    ),
    ("all 5,085 sample images, 10 epochs", 0.439, 0.460),
    ("4,000 images, 20 epochs", 0.494, 0.499),
)
# The notebooks' augmented run, as references.REFERENCE_RESULTS records it (a test checks).
NOTEBOOK_AUGMENTED_RUN = "64.0%"

# Why did it get that wrong? (ui.explain, Shallow vs deep): images per list, and how much a
# 32 px test image is enlarged (nearest neighbour, so its pixels stay visible).
EXPLORER_IMAGES_SHOWN = 12
EXPLORER_IMAGE_SCALE = 3
PAIR_IMAGES_SHOWN = 12  # per disagreement list of Shallow vs deep
PAIR_IMAGE_SCALE = 3

# Look inside (Shallow vs deep): feature maps shown per layer; a 3×3 filter drawn 12× (36 px).
FEATURE_CHANNELS = 8
FILTER_SCALE = 12
# Shallow vs deep's verdict: a gap difference (points) worth pointing out as "overfits sooner".
GAP_POINTS = 3.0

# Why did it get that wrong? (explain/): answers listed per image (the best guess and the two
# runners-up); a 32×32 map shown 4× (128 px) with the heat colours at half weight over the
# image; occlusion slides an 8×8 patch in steps of 4 pixels (7 × 7 = 49 occluded copies of a
# 32×32 image), predicted 64 per model call.
TOP_K = 3
OVERLAY_SCALE = 4
OVERLAY_ALPHA = 0.5
OCCLUSION_PATCH = 8
OCCLUSION_STRIDE = 4
OCCLUSION_BATCH = 64

# Model card (export/): percentile-bootstrap resamples per interval, their level, and the
# generator's seed (the same run always gets the same card).
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_SEED = 0
# Take-home notebook: test images per predict batch (memory, not results, depends on it);
# the script's Markdown comments are wrapped at this width (its code keeps its lines).
NOTEBOOK_PREDICT_BATCH = 256
SCRIPT_WIDTH = 88

# --- The teacher's console (pages/teacher.py, classroom.py, passcode.py) ---------------------------

# Passcode guesses per session: the first few wrong ones cost nothing (typos), then each one
# locks the form for twice as long as the last, from 5 s up to 5 minutes: a person who mistyped
# barely notices, a script guessing from one session gets ~12 tries an hour.
PASSCODE_FREE_TRIES = 3
PASSCODE_FIRST_LOCK_SECONDS = 5.0
PASSCODE_MAX_LOCK_SECONDS = 300.0
# The class view redraws every 2 s: one teacher's tab, so cheap even with 30 runs listed.
CLASS_VIEW_SECONDS = 2.0
# Jobs the teacher stopped, remembered so their students' pages can say so (a class's worth).
TEACHER_STOPS_KEPT = 256

# --- The class together (class_results.py, ui/class_results.py) -----------------------------------

# The class-together chart is read off a projector at 1280×720 from the back of the room: axis
# labels, legend and titles at least 14 px (Vega's defaults are 10–11), the chart's title larger,
# and tall enough that 30 thin lines and their band stay apart.
PROJECTOR_LABEL_PX = 14
PROJECTOR_TITLE_PX = 16
PROJECTOR_CHART_TITLE_PX = 18
CLASS_CHART_HEIGHT = 400
# Every chart of the app uses those sizes (charts.readable), numbers written on marks too (the
# counts of a confusion matrix, the percentages on bars).
CHART_MARK_TEXT_PX = 14
# The loss and accuracy curves (Train, Shallow vs deep; live and saved) are what the class
# watches on the projector. Streamlit fits a chart's title, axes and legends into its height,
# so at 300 px the plot itself was about 330×120 px at 1280×720; at this height it is about
# 330×300 px, and the two charts still fit side by side on one projector screen.
LIVE_CHART_HEIGHT = 440
# How often the section looks for new runs of the class (it is cheap: a cached list and one
# stat per run; charts are rebuilt only when a run changed).
CLASS_TOGETHER_SECONDS = 10.0

# --- Lesson settings (lesson.py, ui/lesson_settings.py) --------------------------------------------

# The teacher's saved lesson settings (runs/lesson.json) are a few hundred bytes; a file larger
# than this is not a lesson and is not read.
LESSON_FILE_MAX_BYTES = 64 * 1024

# --- Phones (pages/augmentation_lab.py) ------------------------------------------------------

# Streamlit stacks columns on screens narrower than this; there the lab's preview goes above its
# settings and stays in view while they scroll past (else it sat 1,550 px below the sliders).
PHONE_MAX_WIDTH_PX = 640
# A faceted chart (Bias & privacy's confidence histograms) cannot stretch to its column
# (Vega-Lite fits only single views): its panels get this plot width, which fits a 390 px phone
# with the y axis (at the default it ran about 100 px past the screen's edge).
PANEL_CHART_WIDTH_PX = 260
# Shallow vs deep's published-results chart on a phone: its row labels (three short lines:
# source, network, epochs; the full label is in the tooltip) cut at this width if ever longer,
# and its plot this wide, with the value beside each bar (at 480 px labels, the default width
# and a one-line header it was 930 px wide, cut off at 358).
REFERENCE_LABEL_LIMIT_PX = 140
REFERENCE_CHART_WIDTH_PX = 140
# Its rows' height: a row label has three short lines (source, network, epochs) at 14 px.
REFERENCE_ROW_PX = 60
# The teacher page: how long the outcome of the teacher's last action (stop, cancel, delete,
# prune) stays under the class view, which refreshes every 2 s.
TEACHER_NOTE_SECONDS = 60
