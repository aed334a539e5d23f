"""The tables of ``docs/*.md``, each rendered from the JSON its benchmark writes.

``TABLES`` maps a table's name, as a page marks it for ``render_docs.py``, to the function that
renders it as Markdown with a caption naming its JSON file (and the commit, where the JSON
records one). Standard library only.
"""
from __future__ import annotations

import functools
import json
import math
import pathlib
import re
import statistics
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
CONTENT_SLACK = 1.25  # style_quality.py's seed quality: at most 1.25x the reference's content
GIB = 2 ** 30


def load(name: str) -> dict:
    with open(BENCHMARKS / f"{name}.json") as handle:
        return json.load(handle)


def caption(name: str, data: dict, more: str = "") -> str:
    suffix = re.search(r"_([0-9a-f]{7})$", name)
    commit = data.get("commit") or data.get("head", "")[:7] or (suffix and suffix.group(1))
    where = f" (commit `{commit}`)" if commit else ""
    source = " Transcribed from an earlier README, not rerun." if data.get("source") else ""
    return f"*From `benchmarks/{name}.json`{where}.{source}{more}*\n\n"


def markdown(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def bold(text: str, met: bool) -> str:
    return f"**{text}**" if met else text


# Style transfer ---------------------------------------------------------------------------

def style_speed() -> str:
    runs = [load("style_speed"), load("style_speed_35ccdd2")]
    rows = []
    for size in runs[0]["sizes"]:
        for run in runs:
            r = next(s for s in run["sizes"] if s["size"] == size["size"])
            code = run["code"] + (f" ({run['commit']})" if run is runs[1] else "")
            estimate = f"{r['estimate_mb']:.0f} MB" if r.get("estimate_mb") else ""
            rows.append((r["size"].replace("x", "×"), code, f"{r['ms']:.0f}", f"{r['gflop']:.1f}",
                         f"{r['gflops']:.1f}", f"{r['matmul_gflops']:.1f}",
                         bold(f"{r['ratio']:.2f}", run is runs[0]), f"{r['peak_mb']:.0f} MB",
                         estimate))
    return caption("style_speed", runs[0], " The older code's row: `style_speed_35ccdd2.json`.") \
        + markdown(("size", "code", "ms/step", "GFLOP/step", "GFLOP/s", "matmul GFLOP/s",
                    "ratio", "peak memory", "estimate"), rows)


def precision_speed() -> str:
    data = load("precision_speed")
    rows = [(s["size"].replace("x", "×"), name, f"{s[name]['ms']['float32']:.0f}",
             f"{s[name]['ms']['bfloat16']:.0f}", bold(f"{s[name]['ratio']:.2f}",
                                                       s[name]["ratio"] >= 1.7),
             f"{s['other_cores']:.2f}") for s in data["sizes"] for name in ("adam", "lbfgs")]
    return caption("precision_speed", data, f" {data['cpu']}, {data['threads']} threads; "
                   f"medians of {data['repeats']} blocks of {data['steps']} steps, float32 and "
                   f"bfloat16 alternated; bold: the issue's goal of 1.7 met.") + markdown(
        ("size", "step", "float32 ms", "bfloat16 ms", "speed-up (float32 ÷ bfloat16)",
         "others"), rows)


def speed_unchanged() -> str:
    data = load("speed_unchanged")
    rows = [(size.replace("x", "×"), f"{m['old']['ms']:.0f}", f"{m['new']['ms']:.0f}",
             bold(f"{m['new']['ms'] / m['old']['ms']:.2f}", m["new"]["ms"] <= m["old"]["ms"]),
             ", ".join(f"{v:.0f}" for v in m["old"]["ms_rounds"]),
             ", ".join(f"{v:.0f}" for v in m["new"]["ms_rounds"]),
             f"{max(m['old']['others'], m['new']['others']):.2f}")
            for size, m in data["sizes"].items()]
    return caption("speed_unchanged", data, f" Old: commit `{data['old']}`; {data['rounds']} "
                   f"rounds, old and new alternated; medians.") + markdown(
        ("size", "old ms/step", "new ms/step", "new ÷ old", "old, each round",
         "new, each round", "others"), rows)


def outputs_unchanged() -> str:
    data = load("outputs_unchanged")
    rows = [(name, " ".join(pathlib.Path(o).name if o.startswith("/") else o for o in options))
            for name, options in data["runs"].items()]
    runs: dict[str, list[str]] = {}  # each difference, and the runs that show it
    for line in data["differences"]:
        where, what = line.split(": ", 1)
        run, name = where.rsplit("/", 1)
        runs.setdefault(f"{name}: {what}", []).append(run)
    found = [f"- `{what}` in {', '.join(where)}" for what, where in runs.items()] or ["- none"]
    return caption("outputs_unchanged", data, f" Old: commit `{data['old_commit']}`; "
                   f"{data['identical']} files identical, {data['differ']} differ, "
                   f"{len(data['failed'])} runs failed.") + markdown(("run", "options"), rows) \
        + "\nWhat differs:\n\n" + "\n".join(found) + "\n"


def batch_overhead(name: str = "batch_overhead") -> str:
    data = load(name)
    base = data["base"][:7]
    rows = [(s["size"].replace("x", "×"), f"{s['before']:.2f}", bold(f"{s['after']:.2f}",
             s["after"] <= s["target"]), f"≤ {s['target']:g}",
             ", ".join(f"{r['overhead']:.2f}" for r in s["before_runs"]),
             ", ".join(f"{r['overhead']:.2f}" for r in s["after_runs"])) for s in data["sizes"]]
    return caption(name, data, f" Before: commit `{base}`.") + markdown(
        ("size", f"before ({base}), s/image", "after, s/image", "target", "before, each repeat",
         "after, each repeat"), rows)


def _pixels(size: str) -> int:
    return math.prod(int(v) for v in size.split("x"))


def full_size_evaluations(result: dict) -> float:
    """Each level's evaluations (its last timeline entry's) weighted by its share of the full
    size's pixels."""
    last = {size: evaluations for _, size, _, _, evaluations, *_ in result["timeline"]}
    return sum(n * _pixels(size) / _pixels(result["size"]) for size, n in last.items())


def seed_quality(result: dict, reference: dict) -> bool:
    return result["final_loss"] <= reference["final_loss"] and \
        result["final_content"] <= CONTENT_SLACK * reference["final_content"]


def _runs(results: list[dict], variant: str, like: dict | None = None) -> list[dict]:
    """The results of ``variant`` that did not fail; of ``like``'s network and size if given."""
    return [r for r in results if r["variant"] == variant and "failed" not in r and (
        like is None or (r["network"], r["size"]) == (like["network"], like["size"]))]


def style_quality_fast() -> str:
    data = load("style_quality")
    rows = []
    for ref in _runs(data["results"], "reference"):
        runs = _runs(data["results"], "fast", ref)
        median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        work = full_size_evaluations(median) / full_size_evaluations(ref)
        rows.append((ref["network"], ref["size"], f"{ref['seconds']:.1f}",
                     ", ".join(f"{r['seconds']:.1f}" for r in runs), f"{median['seconds']:.1f}",
                     f"**{median['seconds'] / ref['seconds']:.3f}**", f"{work:.3f}",
                     f"{median['final_loss']:.4g} ({ref['final_loss']:.4g})",
                     f"{median['final_content']:.3g} ({CONTENT_SLACK * ref['final_content']:.3g})",
                     " / ".join("yes" if seed_quality(r, ref) else "no" for r in runs)))
    return caption("style_quality", data) + markdown(
        ("network", "size", "reference s", "--fast runs, s", "median s", "÷ ref",
         "full-size evals ÷ ref", "loss (ref)", "content (ref × 1.25)", "seed quality"), rows)


def style_quality_bf16() -> str:
    data = load("style_quality_bf16")
    rows = []
    for size in dict.fromkeys(r["size"] for r in data["results"]):
        runs = [r for r in data["results"] if r["size"] == size]
        reference = _runs(runs, "reference")[0]
        rows += [(size.replace("x", "×"), r["variant"], r["precision"], f"{r['seconds']:.1f}",
                  f"{r['seconds'] / reference['seconds']:.3f}", r["steps"], r["evaluations"],
                  f"{r['evaluations'] / r['steps']:.2f}", f"{r['ms_per_full_step']:.0f}",
                  f"{r['final_loss']:.1f}", f"{r['final_content']:.2f}",
                  "yes" if seed_quality(r, reference) else "no", f"{r['other_cores']:.2f}")
                 for r in runs]
    return caption("style_quality_bf16", data, " VGG16/HED, one run each; ÷ reference: of the "
                   "tutorial's float32 run at the same size.") + markdown(
        ("size", "variant", "precision", "seconds", "÷ reference", "steps", "evaluations",
         "evaluations per step", "ms per full-size step", "final loss", "content",
         "seed quality", "others"), rows)


def style_quality_sweep() -> str:
    data = load("style_quality")
    references = _runs(data["results"], "reference")
    names = dict.fromkeys(r["variant"] for r in data["results"] if r["variant"] != "reference")
    rows = []
    for name in names:
        cells = []
        for ref in references:
            run = next(iter(_runs(data["results"], name, ref)), None)
            if run is None:
                cells.append("—")
                continue
            mark = "" if seed_quality(run, ref) else " ✗"
            cells.append(f"{run['seconds'] / ref['seconds']:.3f}, {run['final_loss']:.4g}{mark}")
        label = "preset (--fast, first run)" if name == "fast" else name.removeprefix("sweep: ")
        rows.append((label, *cells))
    return caption("style_quality", data) + markdown(
        ("candidate", *(f"{r['network']} {r['size']}" for r in references)), rows)


def style_quality_21cd054() -> str:
    data = load("style_quality_21cd054")
    results = [r for r in data["results"] if r["variant"] != "largest"]
    rows = []
    for r in results:
        ref = _runs(results, "reference", r)[0]
        work = full_size_evaluations(r)
        rows.append((r["network"], r["size"], r["variant"], r["outcome"], f"{r['seconds']:.0f}",
                     f"{r['seconds'] / ref['seconds']:.2f}", f"{r['final_loss']:.4g}", r["steps"],
                     r["evaluations"], f"{work:.0f}", f"{work / full_size_evaluations(ref):.2f}",
                     f"{r['ms_per_full_step']:.0f}", f"{r['peak_mb']:.0f}",
                     f"{r['estimate_mb']:.0f}", f"{r['other_cores']:.2f}"))
    return caption("style_quality_21cd054", data) + markdown(
        ("network", "size", "variant", "outcome", "seconds", "÷ ref", "final loss", "steps",
         "evals", "full-size evals", "÷ ref", "ms/step", "peak MiB", "est. MiB", "others"), rows)


def largest_one_pass() -> str:
    data = load("style_quality_21cd054")
    rows = [(r["network"], r["size"].replace("x", "×"), r["steps"],
             f"{r['peak_mb'] / 1024:.1f} GiB", f"{r['ms_per_full_step'] / 1000:.0f} s",
             f"{r['other_cores']:.2f}")
            for r in data["results"] if r["variant"] == "largest"]
    return caption("style_quality_21cd054", data, " `style_quality.py --largest HxW`: "
                   "`--optimizer lbfgs --scales 3`, a few steps a level.") + markdown(
        ("network", "full size", "steps", "peak", "s per full-size L-BFGS step", "others"), rows)


def weights_load() -> str:
    data = load("weights_load")
    what = {"mat read": ("`matconvnet.read_layers` of the .mat", "the old start-up"),
            "first load": ("first `weights.load` (read, SHA-256, write the cache)",
                           "once per file"),
            "cache hit": ("later `weights.load` (cache hit, arrays checked against their "
                          "SHA-256)", "every later run")}
    rows = [(step, f"{data[key]['median_s']:.2f} s", ", ".join(f"{s:.2f}" for s in
             data[key]["runs_s"]) + " s", when) for key, (step, when) in what.items()]
    return caption("weights_load", data) + markdown(("step", "median", "runs", ""), rows)


# Tiles and controls -----------------------------------------------------------------------

def tiled_memory() -> str:
    data = load("tiled_memory")
    baseline = next(r["peak_bytes"] for r in data["runs"] if r["kind"] == "baseline")
    budget = int(data["budget"].rstrip("G")) * GIB
    rows = []
    for r in data["runs"]:
        tiled = r["kind"] == "tiled"
        run = f"`--max-memory {r['budget']}`" if r["budget"] else (
            "one pass (baseline)" if r["kind"] == "baseline" else "one pass")
        tiles = (f"{r['tiles']} of up to {r['tile']} px" if r["tile"] else "fits: one pass") \
            if tiled else ""
        rows.append((f"{r['width']}×{r['height']}" if r["width"] > r["height"] else
                     f"{r['height']}×{r['width']}", run, tiles, f"{r['peak_bytes'] / GIB:.2f} GiB",
                     f"{r['estimate_bytes'] / GIB:.2f} GiB",
                     f"{(budget + baseline) / GIB:.2f} GiB" if tiled else "",
                     f"{r['step_seconds']:.1f}"))
    return caption("tiled_memory", data) + markdown(
        ("size", "run", "tiles", "peak", "estimate", "budget + baseline", "s/step"), rows)


def large_run() -> str:
    names = [name for name in ("large_run", "large_run_bfloat16", "large_run_style_4k")
             if (BENCHMARKS / f"{name}.json").exists()]
    runs = [load(name) for name in names]
    lasts = [run["last"] for run in runs]

    def row(measure, value):
        return (measure, *(value(run, last) for run, last in zip(runs, lasts)))

    rows = [row("processor", lambda run, _: run["cpu"]),
            row("style picture", _large_run_style),
            row("full size", lambda _, last: last["size"].replace("x", "×")),
            row("wall time", lambda run, _: f"{run['wall_seconds'] / 60:.0f} min "
                                            f"({run['wall_seconds']:.0f} s)"),
            row("s per full-size iteration (median)",
                lambda run, _: f"{run['full_size_seconds_per_iteration']:.0f}"),
            row("full-size iterations, evaluations",
                lambda _, last: f"{last['step']:.0f}, {last['evaluations']:.0f}"),
            row("peak resident set", lambda run, _: f"{run['peak_bytes'] / GIB:.2f} GiB"),
            row("final total, content, style loss",
                lambda _, last: f"{last['total']:.1f}, {last['content']:.2f}, "
                                f"{last['style']:.1f}"),
            row("other processes' cores", lambda run, _: f"{run['other_cores']:.2f}")]
    more = "".join(f" {label}: `{name}.json`." for name, label in zip(
        names[1:], ("bfloat16", "With the style drawn at 4K")))
    return caption("large_run", runs[0], more) + markdown(
        ("measure", *(run.get("precision", "float32") + (", style drawn at 4K" if
                                                         "waves_4k" in run.get("style", "")
                                                         else "") for run in runs)), rows)


def _large_run_style(run: dict, _) -> str:
    """The style picture's size and whether the run warned it was scaled up too far (a run
    recorded before the warning existed: the bundled picture, not recorded)."""
    if "style_size" not in run:
        return "bundled, 512×384 (before the warning)"
    warned = ", warned: scaled up too far" if run["style_warning"] else ", no warning"
    return run["style_size"].replace("x", "×") + warned


def control_quality() -> str:
    data = load("control_quality")
    fixed, own = data["fixed_objective"], data["runs"]
    plain = fixed["plain"]["colour_distance_content"]
    own_loss = {"plain": f"{own['plain']['style_loss']:.0f}",
                "preserve": "(none: applied after)",
                "luminance": f"{own['luminance']['style_loss']:.0f} (grey style)",
                "match": f"{own['match']['style_loss']:.0f} (recoloured style)"}
    label = {"plain": "plain", "preserve": "`--preserve-colors`",
             "luminance": "`--colour-control luminance`", "match": "`--colour-control match`"}
    closer = {k: k in ("luminance", "match") and fixed[k]["colour_distance_content"] < plain
              for k in label}
    rows = [(label[k], bold(f"{fixed[k]['colour_distance_content']:.3f}", closer[k]),
             f"{fixed[k]['ssim_luminance']:.3f}", f"{fixed[k]['content_loss']:.2f}",
             f"{fixed[k]['style_loss']:,.0f}", own_loss[k]) for k in label]
    return caption("control_quality", data) + markdown(
        ("run", "distance to content", "SSIM (Y)", "content loss", "style loss (plain)",
         "own style loss"), rows)


def control_regions() -> str:
    data = load("control_quality")
    regions = data["fixed_objective"]["regions"]
    rows = [(half, f"{regions[f'{colour}_vs_waves']:,.0f}", f"{regions[f'{colour}_vs_tiles']:,.0f}")
            for half, colour in (("left (waves)", "red"), ("right (tiles)", "blue"))]
    return caption("control_quality", data) + markdown(
        ("half", "guided Gram loss against the waves", "against the tiles"), rows)


# Video ------------------------------------------------------------------------------------

# What a run name of video_quality.py leaves out meant when it ran: the defaults then.
# --freed-frames, --freed-start and --freed-edge-frames came later, so a name without them ran
# without a ramp, its freed pixels started from the content, the edge's no region of its own.
VIDEO_NAME_DEFAULTS = {"freed": "1", "freed_frames": "0", "edge": "0", "freed_start": "content"}
VIDEO_FLAGS = {"freed": ("--freed-style-weight", "freed_style_weight"),
               "freed_frames": ("--freed-frames", "freed_frames"),
               "edge": ("--freed-edge-frames", "freed_edge_frames"),
               "freed_start": ("--freed-start", "freed_start")}


def _video_name_value(value) -> str:
    """An option's value as video_quality.py writes it into a run's name."""
    return value if isinstance(value, str) else f"{value:g}"


def _video_label(name: str) -> str:
    """A run of video_quality.py by the options that differ from today's defaults."""
    if name == "independent":
        return name
    from tf1cnn.style_transfer.config import StyleConfig

    parts = {**VIDEO_NAME_DEFAULTS, **dict(p.split("=") for p in name.split()[1:])}
    options = [f"{flag} {parts[key]}" for key, (flag, field) in VIDEO_FLAGS.items()
               if parts[key] != _video_name_value(getattr(StyleConfig, field))]
    options += [f"--frame-target {parts['target']}"] if "target" in parts else []
    label = "consistent" if len(options) > ("target" in parts) else "consistent (default)"
    label += f", `{' '.join(options)}`" if options else ""
    return label + ("" if "target" in parts else ", 50 steps a frame")


def _ratio(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _steps(reached: list[float] | None) -> str:
    if not reached:
        return "–"
    worst = max(reached)
    return f"{statistics.median(reached):g}, {'never' if math.isinf(worst) else f'{worst:g}'}"


def _near(summary: dict, ratio: str) -> str:
    """A loss ratio to the independent frames', bold within 25 % of 1 (1, not bold, if absent)."""
    return bold(f"{summary.get(ratio, 1):.3f}", abs(summary.get(ratio, 9) - 1) <= 0.25)


def _fresh(summary: dict, figure: str = "fresh_style") -> str:
    """A region's style loss ÷ the independent frames' (mean, max; ``figure`` of
    video_quality.py's ``REGIONS``), bold within 1.3x (issue 23); 1 for the independent run,
    "–" where the JSON has no such figure."""
    if f"{figure}_ratio" not in summary:
        return "1.000, 1.000" if summary["run"] == "independent" and \
            f"mean_{figure}" in summary else "–"
    mean, worst = summary[f"{figure}_ratio"], summary[f"{figure}_max_ratio"]
    return bold(f"{_ratio(mean)}, {_ratio(worst)}", mean <= 1.3)


def _lai(summary: dict) -> tuple[str, str]:
    """Lai et al.'s warping error x 1000 and its ratio, bold at most 1/3 (as the other); "–"
    where the JSON has no such figure."""
    if "mean_lai_warping_error" not in summary:
        return "–", "–"
    ratio = summary.get("lai_warping_ratio", 1)
    met = summary["run"] != "independent" and ratio <= 1 / 3
    return bold(f"{summary['mean_lai_warping_error'] * 1e3:.3f}", met), bold(_ratio(ratio), met)


def _video(name: str) -> str:
    """The table of video_quality.json or of an earlier run of it (cfb180d, static). The
    columns of issue 23 (Lai et al.'s warping error, the freed region's style) appear when
    the JSON has them, so that the tables of earlier runs stay as they were rendered."""
    data = load(name)
    runs, rows = data["runs"], []
    warm = data["iterations"] / 3  # issue 11: a later frame at its independent loss within 1/3
    newer = any("mean_lai_warping_error" in s or "fresh_style_ratio" in s
                for s in data["summary"])
    parts = any("edge_style_ratio" in s for s in data["summary"])  # the region in two
    for s in data["summary"]:
        reached, stable = s.get("steps_to_independent_loss"), s.get("stable", False)
        later = statistics.median(f["seconds"] for f in runs[s["run"]]["frames"][1:])
        row = [_video_label(s["run"]), bold(f"{s['mean_warping_error']:.2f}", stable),
               bold(_ratio(s.get("warping_ratio", 1)), stable), f"{s['mean_style']:.1f}",
               _near(s, "style_ratio"), f"{s['mean_content']:.3f}", _near(s, "content_ratio"),
               bold(_steps(reached), bool(reached) and max(reached) <= warm), f"{later:.1f}"]
        if newer:
            row[3:3] = _lai(s)
            row[-2:-2] = [_fresh(s)] + ([_fresh(s, "edge_style"), _fresh(s, "uncovered_style")]
                                       if parts else [])
        rows.append(row)
    steps = f"steps to the independent frame's loss (median, max; {data['frames'] - 1} frames)"
    header = ["run", "warping error", "÷ independent", "mean style loss", "÷",
              "mean content loss", "÷", steps, "s/frame (later frames, median)"]
    if newer:
        fresh = (f"freed region's style loss ÷ independent (mean, max; pixels that entered "
                 f"within {data.get('entered_frames', '?')} frames)")
        header[3:3] = ["warping error (Lai et al. 2018) ×10⁻³", "÷"]
        header[-2:-2] = [fresh] + (["of them, entered at the edge", "of them, uncovered"]
                                   if parts else [])
    more = f" {data['frames']} frames of {data['size']}, {data['iterations']} L-BFGS steps."
    return caption(name, data, more) + markdown(header, rows)


def video_quality_weights() -> str:
    data = load("video_quality_weights")
    rows = [(s["run"].split("=")[1], f"{s['warping_ratio']:.3f}", f"{s['style_ratio']:.3f}",
             f"{s['content_ratio']:.3f}", _steps(s["steps_to_independent_loss"]))
            for s in data["summary"] if s["run"] != "independent"]
    return caption("video_quality_weights", data, f" The first {data['frames']} frames.") \
        + markdown(("`--temporal-weight`", "warping error ÷ independent", "style ÷",
                    "content ÷", "steps to the independent loss (median, max)"), rows)


def video_speed() -> str:
    data = load("video_speed")
    rows = [("network, size", f"{data['network']}, {data['size']}"),
            ("frames, L-BFGS iterations a frame", f"{data['frames']}, {data['iterations']}"),
            ("first frame", f"{data['first_frame_seconds']:.1f} s"),
            ("a later frame (median)", f"**{data['median_seconds_per_frame']:.1f} s**, "
             f"{data['median_evaluations']:.0f} evaluations"),
            ("optical flow of a later frame (median)",
             f"{data['median_flow_seconds'] * 1000:.0f} ms, "
             f"**{data['flow_share'] * 100:.1f} %** of the time"),
            ("other processes' cores", f"{data['others']:.2f}")]
    return caption("video_speed", data) + markdown(("measure", "value"), rows)


# Kernels and cluster ----------------------------------------------------------------------

def kernels_speed() -> str:
    data = load("kernels_speed")
    strides = data["strides"]
    first = next(iter(strides.values()))["rows"]
    rows = []
    for k, row in enumerate(first):
        cells = [row["variant"]]
        for stride in strides.values():
            r = stride["rows"][k]
            cells += [f"{r['ms']:.0f}", f"{r['x_copy']:.3g}", f"{r['scipy_over']:.3g}"]
        rows.append(cells)
    header = ["variant"]
    for stride, values in strides.items():
        header += [f"stride {stride} ms (copy: {values['copy_bytes'] / 2**20:.0f} MiB)",
                   "× copy", "scipy ÷ it"]
    return caption("kernels_speed", data, f" A {data['size']}×{data['size']}×3 image.") \
        + markdown(header, rows)


def cluster_speed() -> str:
    data = load("cluster_speed")
    names = {"baseline": "one process, plain Session (baseline)",
             "baseline+grpc": "one process, Session through an in-process gRPC server"}
    base = data["medians"][0]["steps_per_s"]
    rows = []
    for m in data["medians"]:
        workers = m["run"].split()[0]
        name = names.get(m["run"], f"1 ps + {workers} worker{'s' if workers != '1' else ''}"
                         + (" (the tutorial's cluster)" if workers == "3" else ""))
        seconds = m["launch_to_exit_s"]
        rows.append((name, f"{m['steps_per_s']:.0f}", f"{m['steps_per_s'] / base:.2g}",
                     f"{seconds:.1f} s" if seconds is not None else "–"))
    return caption("cluster_speed", data, f" {data['steps']} global steps, medians of "
                   f"{data['repeats']}.") + markdown(
        ("run", "global steps/s", "vs one process", "launch to exit"), rows)


# Feed-forward style network (benchmarks/style_net_speed.py) -------------------------------

def _style_net(part: str) -> dict:
    """One part's section of style_net_speed.json, which each part of the script replaces."""
    data = load("style_net_speed")
    if part not in data:
        raise SystemExit(f"error: benchmarks/style_net_speed.json has no {part} section yet: "
                         f"run python benchmarks/style_net_speed.py {part}")
    return data[part]


def _style_net_run(name: str, threads: int) -> str:
    where = ", across network namespaces" if name.endswith("namespaces") else ", loopback"
    if name == "plain":
        return f"one process, plain Session, {threads} threads"
    if name == "plain, 1 thread":
        return "one process, plain Session, 1 thread pinned to a core"
    workers = int(name.split()[0])
    return (f"1 ps + {workers} worker{'s' if workers > 1 else ''} pinned to "
            f"{'a core' if workers == 1 else 'a core each'}{where}")


def style_net_train() -> str:
    data = load("style_net_speed")
    train = _style_net("train")
    rows = [(_style_net_run(m["run"], train["threads"]), f"{m['pictures_per_s']:.3g}",
             f"{m['step_s']:.3g}",
             bold(f"{m['vs_1_worker']:.2f}", m["run"].startswith("2 workers")
                  and m["vs_1_worker"] >= 1.7), f"{m['other_cores']:.2f}")
            for m in train["medians"]]
    matmul = data.get("matmul")
    more = (f" A {matmul['size']}² float32 matmul: 1 thread {matmul['medians']['1']:.0f} "
            f"GFLOP/s, 2 threads {matmul['medians']['2']:.0f} (×{matmul['ratio']:.2f}, "
            f"commit `{matmul['commit']}`)." if matmul else "")
    skipped = (f" Network namespaces skipped: {train['netns_skipped']}."
               if train.get("netns_skipped") else "")
    return caption("style_net_speed", train, f" {train['cpu']}; crops of {train['crop']}², "
                   f"batches of {train['batch']}, width {train['width']:g}, loss on "
                   f"`{train['vgg']}`; medians of {train['repeats']} runs, {train['steps']} "
                   f"steps a worker after {train['warmup']}. One step's traffic to the ps "
                   f"alone ({train['parameters']:,} values each way): "
                   f"{train['transfer_s'] * 1000:.0f} ms. Ratios are to the one worker on the "
                   f"same network (loopback for the plain runs). Bold: the issue's goal, two "
                   f"workers at least 1.7× one, met.{more}{skipped}") + markdown(
        ("run", "pictures/s", "s a step (a worker's)", "vs 1 worker", "others"), rows)


def style_net_ps() -> str:
    ps = _style_net("ps")
    sources = ps["sources"]

    def cell(found: dict) -> str:
        return f"{found['pictures_per_s']:.3g} ({found['bound']})"

    rows = [(row["workers"], row["ps"], cell(row["overhead"]), cell(row["transfer"]))
            for row in ps["predictions"]]
    check = ps["check"]
    rows.append((f"{check['workers']} (measured: {check['measured']:.3g})", check["ps"],
                 f"{check['overhead']:.3g}", f"{check['transfer']:.3g}"))

    def cost(name: str) -> str:
        found = sources[name]
        rate = f", {found['mb_per_s']:.3g} MB/s" if found["mb_per_s"] else ""
        return f"{found['round_trip_s'] * 1000:.0f} ms{rate}"

    return caption("style_net_speed", ps, f" Predicted pictures/s = batch × min(N ÷ (t_c + T), "
                   f"K ÷ T) for N workers, a core each, and K ps tasks: a step moves "
                   f"{ps['bytes_per_step'] / 1e6:.1f} MB ({ps['parameters']:,} float32 values "
                   f"read, as many gradients written); t_c = {ps['compute_s']:.3g} s, a step "
                   f"of one plain pinned thread; T the cost of the traffic: \"cluster "
                   f"overhead\", one pinned worker's step ({ps['one_worker_s']:.3g} s) − t_c "
                   f"= {cost('overhead')}, or \"traffic alone\", timed by itself = "
                   f"{cost('transfer')}; batch {ps['batch']}. In brackets, which bound "
                   f"holds. The last row checks the model against the measured 2 workers.") \
        + markdown(("workers", "ps tasks", "pictures/s (T: cluster overhead)",
                    "pictures/s (T: traffic alone)"), rows)


def style_net_clip() -> str:
    data = load("style_net_clip")
    optimised = data["runs"][0]["median_seconds_per_frame"]
    rows = [(run["run"], f"{run['median_seconds_per_frame']:.3f}",
             "–" if "median_forward_seconds" not in run else
             f"{run['median_forward_seconds']:.3f}", f"{run['frames_per_second']:.2f}",
             f"1/{optimised / run['median_seconds_per_frame']:.0f}",
             f"{run['others']:.2f}") for run in data["runs"]]
    return caption("style_net_clip", data, f" {data['cpu']}; the sample clip, {data['frames']} "
                   f"frames of {data['size']}, later frames' medians; `--video` on "
                   f"`{data['network']}`; `--network`'s frame time includes the optical flow "
                   f"of its warping error.") + markdown(
        ("run", "s a frame", "forward pass s", "frames/s", "÷ `--video`", "others"), rows)


def style_net_apply() -> str:
    apply = _style_net("apply")
    fast = {row["size"]: row for row in apply["fast"]}
    rows = []
    for row in apply["forward"]:
        ratio = row["vs_fast"]
        shown = "–" if ratio is None else bold(f"1/{1 / ratio:.0f}", ratio <= 0.01)
        found = fast.get(row["size"])
        rows.append((row["size"].replace("x", "×"), f"{row['width']:g}",
                     f"{row['seconds']:.3g}", f"{row['first_s']:.3g}",
                     f"{found['seconds']:.3g}" if found else "–", shown))
    start = "; ".join(f"width {s['width']:g}: TensorFlow's import {s['import_s']:.1f} s, the "
                      f"restore {s['restore_s']:.2f} s" for s in apply["startup"])
    fast_start = ", ".join(f"{row['size'].replace('x', '×')} {row['startup_s']:.0f} s "
                           f"({row['evaluations']:.0f} evaluations)" for row in apply["fast"])
    cores = len(set(apply["cores"]))
    return caption("style_net_speed", apply, f" {apply['cpu']}, {cores} "
                   f"core{'s' if cores > 1 else ''}. Forward pass: the median of {apply['apply_steps']} after the first, "
                   f"in each of {apply['repeats']} processes. `--fast`: its own time (losses."
                   f"csv), on `{apply['vgg']}`; its start and VGG load add {fast_start}. Start "
                   f"of the forward pass: {start}. Bold: the issue's goal, at most 1/100 of "
                   f"`--fast`'s time, met.") + markdown(
        ("size", "width", "s a picture", "first pass s", "`--fast` s", "÷ `--fast`"), rows)

def _trained(run: dict) -> str:
    settings = run["settings"]
    return (f"content `{settings['content_layer']}` × {settings['content_weight']:g}, width "
            f"{settings['width']:g}")


def style_net_quality() -> str:
    data = load("style_net_quality")
    fast = data["fast"]
    main = data["runs"][0]
    batch = main["settings"]["batch"]
    rows = [(_trained(run), f"{point['seconds'] / 60:.1f}", point["step"], point["step"] * batch,
             f"{point['loss']:.4g}", f"{point['content']:.3g}", f"{point['style']:.4g}")
            for run in data["runs"] for point in run["checkpoints"][1:]]
    others = "; ".join(f"{_trained(run)}: " + ", ".join(
        f"{session['other_cores']:.2f} for {session['seconds'] / 60:.0f} min"
        for session in run["train"]) for run in data["runs"])
    real = " (VGG16/HED)" if "hed" in data["network"] else ""
    return caption("style_net_quality", data, f" {data['cpu']}; `{data['network']}`{real}; "
                   f"{data['held_out']['count']} held-out crops of "
                   f"{data['held_out']['size']}² pixels, mean loss; 2 workers and 1 ps on the 2 "
                   f"cores, crops of {main['settings']['crop']}², {batch} a step per worker; "
                   f"minutes of training are the chief's sessions (a resumed run adds one), "
                   f"start-up included, the gaps between them left out. `--fast` on the same "
                   f"crops (its median {statistics.median(fast['seconds']):.1f} s a crop) is "
                   f"compared crop by crop in the table below: a mean over its crops would be "
                   f"dominated by those where it stopped early. Cores other "
                   f"processes kept busy in each session: {others}.") + markdown(
        ("trained with", "minutes", "global step", "pictures", "held-out loss", "content",
         "style"), rows)


def style_net_crops() -> str:
    data = load("style_net_quality")
    network = data["at_minutes"]
    rows = []
    for k, (ours, fast, steps) in enumerate(zip(network["judged"], data["fast"]["judged"],
                                                 data["fast"]["steps"])):
        rows.append((k, f"{ours['loss']:.4g}", f"{ours['content']:.3g}", f"{fast['loss']:.4g}",
                     f"{fast['content']:.3g}", steps, f"{ours['loss'] / fast['loss']:.2f}"))
    return caption("style_net_quality", data, f" Each held-out crop ({_sources(data)}): "
                   f"the network trained with {_trained(data['runs'][0])} at "
                   f"{network['seconds'] / 60:.0f} min of training (global step "
                   f"{network['step']}) against `--fast`, by the same objective; `--fast` "
                   f"steps: its full-size L-BFGS iterations.") + \
        markdown(("crop", "network loss", "network content", "`--fast` loss", "`--fast` content",
                  "`--fast` steps", "÷ `--fast`"), rows)


_PHOTOGRAPHS = {"grace_hopper": "the bundled photograph"}  # pictures.HELD_OUT_PHOTOS' names


def _photographs(data: dict) -> dict[str, list[int]]:
    """The held-out crops' indices by the photograph they come from (as the JSON records it),
    each photograph named as the docs name it."""
    found: dict[str, list[int]] = {}
    for k, name in enumerate(data["held_out"]["sources"]):
        found.setdefault(_PHOTOGRAPHS.get(name, f"`{name}`"), []).append(k)
    return found


def _sources(data: dict) -> str:
    return "; ".join(f"{', '.join(map(str, crops))} from {photo}"
                     for photo, crops in _photographs(data).items())


def style_net_layers() -> str:
    data = load("style_net_quality")
    compared = data["layers_at_step"]
    yardstick = data["yardstick"]
    rows = [(_trained(trained), f"{run['seconds'] / 60:.1f}", run["step"],
             f"{run['loss']:.4g}", f"{run['content']:.3g}", f"{run['style']:.4g}",
             f"{statistics.mean(run['ssim']):.3f}")
            for trained, run in zip(data["runs"], compared["runs"])]
    fast = "; ".join(f"{statistics.mean(data['fast']['ssim'][k] for k in crops):.3f} on the "
                     f"crops of {photo}" for photo, crops in _photographs(data).items())
    return caption("style_net_quality", data, " Each run's checkpoint nearest the shortest "
                   "run's last global step; held-out loss by the style tool's objective "
                   f"(content on `{yardstick['content_layer']}`, weight "
                   f"{yardstick['content_weight']:g}) whatever layer and weight training "
                   "used; SSIM: of the luminance, stylised crop against the crop, the mean of "
                   f"{len(compared['runs'][0]['ssim'])} crops (`--fast`: {fast}; see the "
                   "crop table for where it stopped).") + markdown(
        ("trained with", "minutes", "global step", "held-out loss", "content", "style",
         "SSIM"), rows)


def style_net_temporal() -> str:
    data = load("style_net_quality")
    clip = data["clip"]
    base = clip["video_quality"]
    independent = statistics.mean(base["independent"])
    rows = [(f"network ({clip['checkpoint']})", clip["warping_error"]),
            ("independent Gatys frames", base["independent"]),
            ("`--video` (defaults of a new clip)", base["video"])]
    return caption("style_net_quality", data, f" The sample clip, {clip['frames']} frames of "
                   f"{clip['size']}; warping error under the clip's true flow and visibility, "
                   f"mean |frame − warped previous frame| in pixel values (0-255), frames 2 "
                   f"on. The optimised runs are `benchmarks/{base['source']}`'s ("
                   f"{base['cpu']}, `{base['network']}`, L-BFGS {base['iterations']} a "
                   f"frame), not rerun here.") + markdown(
        ("run", "mean", "median", "largest", "÷ independent"),
        [(name, f"{statistics.mean(v):.2f}", f"{statistics.median(v):.2f}", f"{max(v):.2f}",
          f"{statistics.mean(v) / independent:.2f}") for name, v in rows])


TABLES: dict[str, Callable[[], str]] = {f.__name__: f for f in (
    style_speed, precision_speed, batch_overhead, style_quality_fast, style_quality_sweep,
    style_quality_21cd054, largest_one_pass, weights_load, tiled_memory, large_run,
    control_quality, control_regions)}
TABLES |= {name: functools.partial(_video, name) for name in (  # named after their JSON
    "video_quality", "video_quality_d58412b", "video_quality_ed0e0e9", "video_quality_cfb180d",
    "video_quality_static")}
TABLES |= {f.__name__: f for f in (video_quality_weights, video_speed, kernels_speed,
                                   cluster_speed, speed_unchanged, outputs_unchanged)}
TABLES["style_quality_bf16"] = style_quality_bf16
TABLES["batch_overhead_2d37bb6"] = functools.partial(batch_overhead, "batch_overhead_2d37bb6")
TABLES |= {f.__name__: f for f in (style_net_train, style_net_ps, style_net_apply,
                                     style_net_clip, style_net_quality, style_net_layers,
                                     style_net_crops, style_net_temporal)}


# Automatic masks (benchmarks/auto_masks.py) -------------------------------------------------

def auto_masks_k() -> str:
    data = load("auto_masks")
    found = data["measure"]
    names, chosen = list(found["pictures"]), found["chosen"]
    timing = found.get("evaluation", {})
    rows = []
    for k in range(2, len(found["pictures"][names[0]]) + 1):
        gain = found["median_gain"][str(k)]
        ms = timing.get(str(k))
        rows.append((bold(str(k), k == chosen),
                     *(f"{found['pictures'][n][k - 1]['r2']:.2f}" for n in names),
                     bold(f"{gain:.3f}", gain >= found["gain_rule"]),
                     f"{ms['ms']:.0f}" if ms else "–"))
    plain = f" Without a mask an evaluation took {timing['0']['ms']:.0f} ms on " \
        f"{_network(found['vgg'])} ({found['cpu']}; other processes kept at most " \
        f"{max(t['other_cores'] for t in timing.values()):.2f} cores busy)." if timing else ""
    return caption("auto_masks", data, f" Each picture fitted to {found['size']}: R², the "
                   f"share of its colour variance (CIELAB) that the regions' mean colours "
                   f"explain; gain: the median over the pictures of what the K-th region adds, "
                   f"bold where it is at least {found['gain_rule']}; K in bold: the default, the "
                   f"smallest after which one more region gains less. ms: one loss-and-gradient "
                   f"evaluation at that size, median of {found.get('repeats')}.{plain}") + markdown(
        ("K", *(f"R² {n}" for n in names), "gain", "ms"), rows)


def _network(name: str) -> str:
    return f"VGG16/HED features (`{name}`)" if "hed" in name.lower() else f"`{name}`"


def auto_masks_regions() -> str:
    data = load("auto_masks")
    found = data["picture"]
    plain, auto = found["region_losses"]["plain"], found["region_losses"]["auto"]
    count = len(auto)
    names = {0: " (darkest)", count - 1: " (brightest)"}
    rows = [(f"{i + 1}{names.get(i, '')}", f"{plain[i][i]:,.0f}", f"{auto[i][i]:,.0f}",
             f"{min(auto[i][j] for j in range(count) if j != i):,.0f}") for i in range(count)]
    label = {"plain": "plain", "auto": "`--content-mask auto`"}
    runs = [(label[name], f"{run['ssim_luminance']:.3f}",
             f"{run['colour_distance_content']:.3f}", f"{run['colour_distance_styles'][0]:.3f}")
            for name, run in found["runs"].items()]
    return caption("auto_masks", data, f" {_network(found['vgg'])}, {found['size']}, "
                   f"`--fast --seed 0`, "
                   f"K = {found['regions']}; guided Gram loss of each content region of each "
                   f"result against a style region, hard masks, the default objective.") \
        + markdown(("region", "plain result, against its style region",
                    "auto result, against its style region",
                    "auto result, against the other style regions (least)"), rows) + "\n" \
        + markdown(("run", "SSIM (Y)", "distance to content", "distance to the style"), runs)


TABLES |= {f.__name__: f for f in (auto_masks_k, auto_masks_regions)}
