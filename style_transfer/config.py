"""The settings of one style-transfer run, with the 2019 tutorial's values as defaults.

``StyleConfig`` is frozen: derive a variant with ``dataclasses.replace``. ``check`` rejects
impossible values with a one-line message before anything expensive happens, and
``run_settings`` lists the fields that define a run, so that a rerun resumes only a run that
used the same ones. Each field's metadata holds its command-line help (see ``options``) and
what the rest of this module derives from it, so that a plain new option is one field:

* ``bound``: the values ``check`` refuses, one of ``REFUSES``' keys (the words of its message);
  ``choices``, the values it accepts;
* ``defines_run=False``: a field that ``run_settings`` leaves out (a path, whose file's hash
  the caller adds, or a setting a rerun may change and still resume); ``video=True``: a video's
  setting, left out of a still image's run;
* ``old``: the value that a run saved before the field existed resumes with, or a function of
  that run's settings giving it (``complete_settings``);
* ``new``: a field that a resumed run keeps unless the command line gives it (its default
  None stands for "not given"); a new run takes this value (``settled``).
"""
from __future__ import annotations

import dataclasses
import re

from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option
from tf1cnn.common.runtime import PRECISIONS

# The seed's "convX_Y" features were taken after the ReLU; MatConvNet names those reluX_Y.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
POOLING = ("avg", "max")
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("noise", "content", "style", "style-colours")  # or the path of an image file
COLOUR_CONTROLS = ("none", "luminance", "match")
COLOUR_MATCHES = ("cholesky", "eigen")
FRAME_INITS = ("warped", "init")
FREED_STARTS = ("content", "noise")  # --freed-start's: see docs/video.md
# A field's bound: the words of its message, and the test of a value it refuses.
AT_LEAST_1, POSITIVE = "must be at least 1", "must be positive"
NOT_NEGATIVE, FRACTION = "must not be negative", "must be within [0, 1]"
REFUSES = {AT_LEAST_1: lambda value: value < 1, POSITIVE: lambda value: not value > 0,
           NOT_NEGATIVE: lambda value: not value >= 0,
           FRACTION: lambda value: not 0.0 <= value <= 1.0}
FRAME_TARGET = 0.85  # a new clip's: chosen by benchmarks/video_quality.py, see docs/video.md
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}  # --max-memory's
MIN_LEVEL_SIDE = 8  # the coarsest coarse-to-fine level; relu5_1 then still has a pixel
# --content-mask auto[:K] (control/auto_masks.py). The default K was chosen by measurement
# (benchmarks/auto_masks.py, docs/control.md). The colours of the masks it writes, darkest
# first as the regions are numbered, so that a mask looks like the picture posterised; any two
# are at least 255 apart, far beyond --mask-tolerance.
AUTO, AUTO_REGIONS = "auto", 3
AUTO_PALETTE = ("black", "blue", "red", "magenta", "lime", "cyan", "yellow", "white")
# --fast: values chosen by measurement (benchmarks/style_quality.py --sweep; its JSON keeps the
# candidates): the tutorial's quality in a fraction of its time, each level ending by itself.
FAST = {"optimizer": "lbfgs", "scales": 2, "init": "content", "coarse_iterations": 1000,
        "coarse_tolerance": 0.1, "coarse_evaluations": 30, "iterations": 1000,
        "tolerance": 0.4, "tolerance_steps": 3, "lbfgs_corrections": 10}


@dataclasses.dataclass(frozen=True)
class StyleConfig:
    content: str | None = option(None, "content image; if omitted, the bundled photograph",
                                 metavar="PATH", defines_run=False)
    content_dir: str | None = option(
        None, "batch mode: stylise every image in this folder (png, jpg, ...), each into its own "
              "subfolder of --output-dir named after it, loading the network once",
        metavar="PATH", defines_run=False)
    style: tuple[str, ...] = option(
        (), "one or more style images; if omitted, the bundled painting-like pattern",
        metavar="PATH", defines_run=False)
    style_blend_weights: tuple[float, ...] = option(
        (), "one weight per style image, normalised to sum to 1; if omitted, every style weighs "
            "the same")
    style_scale: float = option(
        1.0, "size of the style images relative to the result (2 = twice as large)",
        bound=POSITIVE)
    output_dir: str = option("style_output",
                             "folder for images, checkpoints, summaries and config.json",
                             defines_run=False)
    vgg: str | None = option(
        None, "local MatConvNet VGG .mat or Keras .h5 file, or keras-vgg19 (Keras' ImageNet "
              "weights, downloaded once); if omitted, MatConvNet's VGG19 is downloaded once",
        metavar="PATH", defines_run=False)
    height: int = option(
        250, "height of the result; content and style are centre-cropped and resized to it",
        bound=AT_LEAST_1)
    width: int = option(333, "width of the result", bound=AT_LEAST_1)
    iterations: int = option(
        300, "optimisation steps at the full size (L-BFGS: iterations); a rerun with more steps "
             "extends a finished run", bound=AT_LEAST_1, defines_run=False)
    optimizer: str = option(
        "adam", "adam (as the tutorial) or lbfgs (SciPy's L-BFGS-B, within pixel bounds)",
        choices=OPTIMIZERS)
    learning_rate: float = option(2.0, "Adam learning rate", bound=POSITIVE)
    lbfgs_corrections: int = option(  # SciPy's default
        10, "L-BFGS: curvature pairs kept (memory: 16 bytes per pixel value and pair)",
        bound=AT_LEAST_1)
    max_memory: str = option(
        "", "memory for the optimisation beyond the TensorFlow runtime and weights (binary "
            "units: 6G, 6GiB, 512M); a level that does not fit is evaluated exactly in tiles. "
            "Default: what the machine has free, less the runtime and 1 GiB", metavar="SIZE",
        defines_run=False)
    tolerance: float = option(
        0.0, "the full size stops when the relative change of the loss over the last "
             "--tolerance-steps steps falls to this (adam and lbfgs); 0 never stops early",
        bound=NOT_NEGATIVE)
    tolerance_steps: int = option(
        1, "the steps over which --tolerance and --coarse-tolerance measure the loss's change "
           "(more than 1 smooths out a single slow step)", bound=AT_LEAST_1, old=1)
    scales: int = option(
        1, "coarse-to-fine: optimise first at 1/2^(N-1) of the size, then at each doubling",
        bound=AT_LEAST_1)
    coarse_iterations: int = option(
        100, "steps at most at each coarse-to-fine level below the full size",
        bound=AT_LEAST_1)
    coarse_tolerance: float = option(
        0.0, "a coarse-to-fine level below the full size stops when the relative change of the "
             "loss over the last --tolerance-steps steps falls to this; 0 never stops early",
        bound=NOT_NEGATIVE,
        old=lambda saved: saved.get("tolerance", 0.0))  # which then stopped every level
    coarse_evaluations: int = option(
        0, "a coarse-to-fine level below the full size stops once it has used this many "
           "loss-and-gradient evaluations (an Adam step is one); 0: no budget",
        bound=NOT_NEGATIVE, old=0)
    content_weight: float = option(0.01, "weight of the content loss in the total",
                                   bound=NOT_NEGATIVE)
    style_weight: float = option(1.0, "weight of the style loss in the total",
                                 bound=NOT_NEGATIVE)
    tv_weight: float = option(  # off in the tutorial
        0.0, "weight of the total-variation loss (mean squared difference of neighbouring "
             "pixels), which smooths the result", bound=NOT_NEGATIVE)
    content_layer: str = option(
        "relu4_2", "layer whose features define the content (reluX_Y is after the ReLU)")
    style_layers: tuple[str, ...] = option(
        STYLE_LAYERS, "layers whose Gram matrices define the style")
    style_layer_weights: tuple[float, ...] = option(  # deeper layers weigh more
        (0.5, 1.0, 1.5, 3.0, 4.0), "one weight per style layer")
    init: str = option(
        "noise", "initial image: noise (the tutorial's noise blended with the content), "
                 "content, style (the first style image), style-colours (the content given the "
                 "first style image's colour mean and covariance) or the path of an image file")
    noise_ratio: float = option(
        0.6, "share of uniform noise in the initial image; the rest is the content",
        bound=FRACTION)
    noise_range: float = option(20.0, "the initial noise is uniform in (-range, range)",
                                bound=POSITIVE)
    mean_pixel: tuple[float, ...] = option(  # the ImageNet RGB mean
        (123.68, 116.779, 103.939), "RGB mean subtracted before the network and added back after")
    pooling: str = option(
        "avg", "pooling in the network: avg (as the tutorial) or max (as VGG was trained)",
        choices=POOLING)
    precision: str = option(
        "float32", "arithmetic of the network after its first layer: float32, bfloat16 (half "
                   "the activations' memory; measured slower than float32 on processors "
                   "without AMX, see docs/speed.md) or auto (bfloat16 where the processor has "
                   "AMX's bfloat16 instructions and oneDNN is on, else float32; a run that "
                   "resumes keeps its own)", choices=PRECISIONS, old="float32")
    seed: int | None = option(
        None, "seed of the initial noise, for reproducible runs; if omitted, a fresh draw")
    checkpoint_every: int = option(20, "steps between checkpoints", bound=AT_LEAST_1,
                                   defines_run=False)
    preserve_colors: bool = option(
        False, "keep the content's colours: the result's luminance (Y) with the content's "
               "chroma (Cb, Cr), applied after the optimisation", defines_run=False)
    colour_control: str = option(  # Gatys et al. 2017; none is the tutorial's
        "none", "luminance: optimise the luminance only (the style's matched to the content's "
                "mean and spread) and keep the content's chroma; match: give the style images "
                "the content's colour mean and covariance before the optimisation",
        choices=COLOUR_CONTROLS)
    colour_match: str = option(
        "cholesky", "the linear map of --colour-control match: cholesky (A = Lc Ls^-1) or "
                    "eigen (A = Sc^1/2 Ss^-1/2)", choices=COLOUR_MATCHES)
    content_mask: str | None = option(
        None, "spatial control: an image of the content's shape painted in flat colours, one "
              "per region; each colour needs a --region-style. Or auto[:K]: the content and "
              f"the one style picture are each split into K regions (default {AUTO_REGIONS}, "
              f"2 to {len(AUTO_PALETTE)}) by colour and position, the i-th darkest content "
              "region taking its style from the i-th darkest style region; the masks are "
              "written next to the result (a file named auto: ./auto)", metavar="PATH",
        defines_run=False)
    style_mask: tuple[str, ...] = option(
        (), "one mask per style image, painted in the same colours: a region's style comes "
            "from the matching region of its style image (if omitted, the whole image)",
        metavar="PATH", defines_run=False)
    region_style: tuple[str, ...] = option(
        (), "COLOUR=STYLE for each colour of --content-mask: STYLE is a --style path, its "
            "number (1 = the first) or none; COLOUR is #rrggbb, rrggbb or a name such as red",
        metavar="COLOUR=STYLE")
    mask_tolerance: float = option(
        40.0, "a mask pixel belongs to the nearest listed colour within this RGB distance, or "
              "is split between two painted near it when it lies that close to their blend",
        bound=NOT_NEGATIVE)
    mask_blend: float = option(
        4.0, "pixels over which a region boundary fades from one style to the next; 0: hard",
        bound=NOT_NEGATIVE)
    coarse_style: tuple[str, ...] = option(
        (), "scale control with --scales: style images for the coarse levels, one per --style "
            "(the full size keeps --style)", metavar="PATH", defines_run=False)

    video: str | None = option(
        None, "stylise a video file (read by ffmpeg) or a folder of frames (in name order), "
              "frame by frame and temporally consistent, into --output-dir: frames/, "
              "frames.csv and video.mp4; needs the video extra: pip install '.[video]' in "
              "the clone of tf1cnn",
        metavar="PATH", defines_run=False, video=True)
    first_frame: int = option(1, "video: the first frame to stylise (1 = the clip's first)",
                              bound=AT_LEAST_1, video=True)
    last_frame: int = option(
        0, "video: the last frame to stylise; 0: the clip's last (a rerun with a later last "
           "frame extends a finished run)", bound=NOT_NEGATIVE, defines_run=False, video=True)
    fps: float = option(
        0.0, "video: the frame rate of video.mp4; 0: the input video's own, or 24 for a folder "
             "of frames", bound=NOT_NEGATIVE, defines_run=False, video=True)
    # Not in the tutorial (Ruder et al. 2016); chosen by benchmarks/video_quality.py, see
    # docs/video.md.
    temporal_weight: float = option(
        2.0, "video: weight of the temporal loss, the mean squared difference from the previous "
             "result warped by the optical flow, where the flow is consistent",
        bound=NOT_NEGATIVE, video=True)
    freed_style_weight: float = option(
        1.0, "video: weight, as a share of --style-weight, of a second style loss taken on the "
             "pixels the consistency mask frees alone (new picture at an edge, background a "
             "moving object uncovers): the whole frame's style loss hardly pulls on them once "
             "the carried pixels match the style; 0: off", bound=NOT_NEGATIVE, video=True,
        old=0.0)  # a clip saved before it had no freed pixels' style
    freed_frames: int = option(
        3, "video: for this many frames after the consistency mask frees a pixel, its temporal "
           "weight rises in equal steps from 0 to the full --temporal-weight, and its freed "
           "pixels' style weight falls as much, so that new picture at an edge is stylised "
           "over several frames before the temporal term holds it (3: chosen by measurement, "
           "see docs/video.md); 0: held from the next frame",
        bound=NOT_NEGATIVE, video=True, old=0)  # a clip saved before it held them at once
    freed_edge_frames: int = option(
        24, "video: new picture that enters at the frame's edge keeps a freed pixels' style "
            "loss of its own (its own Gram matrices, apart from the background a moving object "
            "uncovers) for this many frames, falling in equal steps: held by the temporal term "
            "alone, it fades to a flat grey wedge within a few frames (24: chosen by "
            "measurement, see docs/video.md); 0: it is freed like any other pixel",
        bound=NOT_NEGATIVE, video=True, old=0)  # a clip saved before it had no edge region
    freed_start: str = option(
        "content", "video: where the pixels the consistency mask frees start, under the freed "
                   "pixels' style: content (this frame's), or noise (the tutorial's noise "
                   "blended with this frame's content, drawn anew each frame): a flat region "
                   "of the content, started flat, takes the style's colour but no texture",
        choices=FREED_STARTS, video=True, old="content")  # a clip saved before it had one
    frame_iterations: int = option(
        0, "video: optimisation steps for each frame after the first (L-BFGS: iterations); "
           "0: as --iterations", bound=NOT_NEGATIVE, defines_run=False, video=True)
    frame_target: float | None = option(
        None, "video: a frame after the first stops once its content+style loss is at most "
              "this many times the first frame's final one, so that the clip keeps the first "
              "frame's look instead of optimising further frame after frame; 0: every frame "
              f"runs --frame-iterations. If omitted, {FRAME_TARGET} for a new clip (the "
              "measurements' recommendation, see docs/video.md), and a resumed clip keeps its "
              "own", bound=NOT_NEGATIVE, defines_run=False, video=True, new=FRAME_TARGET,
        old=0.0)
    frame_init: str = option(
        "warped", "video: warped (each frame after the first starts from the previous result "
                  "warped by the optical flow, at the full size only) or init (every frame "
                  "starts from --init: frames stylised independently)", choices=FRAME_INITS,
        video=True)

    def check(self) -> None:
        """Raise UsageError on a value no run could use: each field's ``bound``, in field
        order, then the rules that involve several fields or a parse."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if "bound" in f.metadata and value is not None and REFUSES[f.metadata["bound"]](value):
                raise UsageError(f"--{f.name.replace('_', '-')} {f.metadata['bound']}, "
                                 f"got {value}")
        if not self.style_layers:
            raise UsageError("--style-layers needs at least one layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise UsageError(f"--style-layer-weights has {len(self.style_layer_weights)} values "
                             f"for {len(self.style_layers)} style layers")
        if len(self.mean_pixel) != 3:
            raise UsageError(f"--mean-pixel needs 3 values (R G B), got {len(self.mean_pixel)}")
        for name, choices in CHOICES.items():  # derived below the class
            if getattr(self, name) not in choices:
                raise UsageError(f"--{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        if self.content and self.content_dir:
            raise UsageError("give --content or --content-dir, not both")
        if self.video and (self.content or self.content_dir):
            raise UsageError("give --video or --content/--content-dir, not both")
        if self.video and (self.content_mask or self.coarse_style):
            raise UsageError("--content-mask and --coarse-style are for still images, not "
                             "--video")
        if self.last_frame and self.last_frame < self.first_frame:
            raise UsageError(f"--last-frame {self.last_frame} comes before --first-frame "
                             f"{self.first_frame}")
        if self.max_memory:
            parse_size(self.max_memory)
        smallest = min(self.levels()[0].height, self.levels()[0].width)
        if smallest < MIN_LEVEL_SIDE:
            raise UsageError(f"--scales {self.scales} makes the coarsest level {smallest} "
                             f"pixels on a side; use fewer scales ({MIN_LEVEL_SIDE} at least)")
        self.blend_weights()
        self.region_styles()
        if self.auto_regions():
            self._check_auto()
        if self.style_mask and len(self.style_mask) != max(len(self.style), 1):
            raise UsageError(f"--style-mask has {len(self.style_mask)} masks for "
                             f"{max(len(self.style), 1)} style image(s); give one per style")
        if self.style_mask and not self.content_mask:
            raise UsageError("--style-mask needs a --content-mask (and --region-style)")
        if self.region_style and self.style_blend_weights:
            raise UsageError("--style-blend-weights does not apply with --region-style: each "
                             "region has one style")
        if self.coarse_style and self.scales < 2:
            raise UsageError("--coarse-style is for the coarse levels of --scales 2 or more")
        if self.coarse_style and len(self.coarse_style) != max(len(self.style), 1):
            raise UsageError(f"--coarse-style has {len(self.coarse_style)} images for "
                             f"{max(len(self.style), 1)} style image(s); give one per style")

    def _check_auto(self) -> None:
        """The options that ``--content-mask auto`` leaves no room for."""
        if self.region_style or self.style_mask:
            raise UsageError("--content-mask auto splits the pictures and pairs their regions "
                             "itself: drop --region-style and --style-mask, or paint the masks")
        if len(self.style) > 1:
            raise UsageError(f"--content-mask auto pairs the content's regions with one style "
                             f"picture's, got {len(self.style)}: give one --style, or paint "
                             f"the masks and use --region-style")

    def auto_regions(self) -> int | None:
        """K of ``--content-mask auto[:K]``; None for a mask file or none."""
        text = self.content_mask or ""
        if text != AUTO and not text.startswith(AUTO + ":"):
            return None
        count = text[len(AUTO) + 1:] if text != AUTO else str(AUTO_REGIONS)
        if not count.isdigit() or not 2 <= int(count) <= len(AUTO_PALETTE):
            single = " (one region is the run without a mask)" if count.lstrip("0") == "1" \
                else ""
            raise UsageError(f"--content-mask auto:K takes K from 2 to {len(AUTO_PALETTE)} "
                             f"regions, got {text!r}{single}")
        return int(count)

    def region_styles(self) -> list[tuple[str, int | None]]:
        """(colour, index of its style image or None) per ``--region-style``, in order; under
        ``--content-mask auto``, each region's colour and the one style picture."""
        regions = self.auto_regions()
        if regions:
            return [(colour, 0) for colour in auto_colours(regions)]
        if bool(self.content_mask) != bool(self.region_style):
            raise UsageError("--content-mask and --region-style go together: name a style "
                             "(or none) for each colour of the mask")
        found = []
        for entry in self.region_style:
            colour, sep, style = entry.rpartition("=")
            if not sep or not colour or not style:
                raise UsageError(f"--region-style takes COLOUR=STYLE, got {entry!r}")
            if style.lower() == "none":
                index = None
            elif style.isdigit() and 1 <= int(style) <= max(len(self.style), 1):
                index = int(style) - 1
            elif style in self.style:
                index = self.style.index(style)
            else:
                raise UsageError(f"--region-style {entry}: {style} is neither none, a --style "
                                 f"path nor a number from 1 to {max(len(self.style), 1)}")
            found.append((colour, index))
        colours = [colour for colour, _ in found]
        if len(set(colours)) != len(colours):
            raise UsageError(f"--region-style names a colour twice: {' '.join(colours)}")
        return found

    def blend_weights(self) -> tuple[float, ...]:
        """One weight per style image, summing to 1; equal weights when none are given."""
        count = max(len(self.style), 1)
        if not self.style_blend_weights:
            return (1.0 / count,) * count
        weights = self.style_blend_weights
        if len(weights) != count:
            raise UsageError(f"--style-blend-weights has {len(weights)} values for {count} "
                             f"style image{'s' if count > 1 else ''}")
        if min(weights) < 0 or not sum(weights) > 0:
            raise UsageError(f"--style-blend-weights must be non-negative and not all zero, "
                             f"got {' '.join(map(str, weights))}")
        return tuple(w / sum(weights) for w in weights)

    def later_frames(self) -> int:
        """The iterations of each video frame after the first."""
        return self.frame_iterations or self.iterations

    def levels(self) -> list[StyleConfig]:
        """The coarse-to-fine levels, coarsest first: each halves the next one's size and runs
        ``coarse_iterations`` at most, stopping at ``coarse_tolerance``; the last is this config
        itself."""
        return [dataclasses.replace(self, height=max(1, round(self.height / 2**k)),
                                    width=max(1, round(self.width / 2**k)),
                                    iterations=self.coarse_iterations,
                                    tolerance=self.coarse_tolerance)
                for k in range(self.scales - 1, 0, -1)] + [self]

    def run_settings(self) -> dict:
        """The fields that define the optimisation: a checkpoint is resumed only if they match.

        Those marked ``defines_run=False`` are left out: paths (the caller adds the inputs'
        content hashes, images and masks; ``region_style`` is kept as written), the budgets a
        rerun may raise to extend a run or a clip (``iterations``, ``last_frame``,
        ``frame_iterations``, ``frame_target``), and what changes only how the result is
        written or computed (``preserve_colors``, ``checkpoint_every``, ``fps``, and
        ``max_memory``, whose tiles evaluate exactly the same objective). A still image's run
        also leaves out every ``video`` setting, and ``init`` unless it is a keyword (the caller
        adds its file's hash).
        """
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.metadata.get("defines_run", True)
                and (self.video or not f.metadata.get("video"))
                and (f.name != "init" or self.init in INITS)}

    def settled(self, saved: dict | None) -> StyleConfig:
        """This config with each field that a resumed run keeps (metadata ``new``) and the
        command line left out (None) given its value: for a run being resumed, the one in its
        saved config ``saved`` (its ``old`` if the run predates the field); for a new run
        (``saved`` None), its ``new``."""
        values = {}
        for f in dataclasses.fields(self):
            if "new" not in f.metadata or getattr(self, f.name) is not None:
                continue
            if saved is None:
                values[f.name] = f.metadata["new"]
            else:
                values[f.name] = saved[f.name] if saved.get(f.name) is not None \
                    else f.metadata["old"]
        return dataclasses.replace(self, **values)


CHOICES = {f.name: f.metadata["choices"] for f in dataclasses.fields(StyleConfig)
           if "choices" in f.metadata}


def auto_colours(regions: int) -> list[str]:
    """The colours of ``--content-mask auto:regions``' masks, region 0 (the darkest) first:
    ``AUTO_PALETTE`` spread evenly from black to white."""
    last = len(AUTO_PALETTE) - 1
    return [AUTO_PALETTE[round(index * last / (regions - 1))] for index in range(regions)]


def complete_settings(saved: dict) -> dict:
    """Run settings saved before a field that defines a run existed, with the field's ``old``
    value (what those runs did), so that such a run still resumes. A video's field is added
    only to a video's settings, those holding any video setting that has no ``old``."""
    fields = [f for f in dataclasses.fields(StyleConfig) if f.metadata.get("defines_run", True)]
    video = any(f.name in saved for f in fields
                if f.metadata.get("video") and "old" not in f.metadata)
    earlier = {}
    for f in fields:
        if "old" in f.metadata and (video or not f.metadata.get("video")):
            old = f.metadata["old"]
            earlier[f.name] = old(saved) if callable(old) else old
    return {**earlier, **saved}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def parse_size(text: str) -> int:
    """Bytes for ``6G``, ``6GiB``, ``512M``, ``1.5g`` or a plain number (binary units)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*", text,
                         re.IGNORECASE)
    if not found:
        raise UsageError(f"--max-memory wants a size such as 6G, 6GiB or 512M, got {text!r}")
    return int(float(found.group(1)) * UNITS[(found.group(2) or "").lower()])
