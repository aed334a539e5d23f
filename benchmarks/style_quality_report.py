"""What ``style_quality.py`` measures and how it judges and shows the results: the variants
and the ``--sweep`` candidates, the seed's quality, the tables, the plot and the side-by-side
picture. No TensorFlow: ``style_quality.py --from-json`` redraws them from earlier runs' JSON.
"""
from __future__ import annotations

from tf1cnn.style_transfer.config import FAST

VARIANTS = {  # StyleConfig fields over the seed configuration
    "reference": {},
    "lbfgs": {"optimizer": "lbfgs"},
    "coarse": {"scales": 2, "coarse_iterations": 100},
    "both": {"optimizer": "lbfgs", "scales": 2, "coarse_iterations": 100},
    "fast": FAST,  # stops by itself: no target
    "fast-bf16": {**FAST, "precision": "bfloat16"},
}
# Run --fast-runs times and summarised by fast_summary, each with its options' name.
FAST_VARIANTS = {"fast": "--fast", "fast-bf16": "--fast --precision bfloat16"}
OPT_IN = ("fast-bf16",)  # run only when --variants names them
PICTURED = {"reference": "the tutorial's Adam, 300 steps", **FAST_VARIANTS}  # column titles
# --sweep: the choices for --fast, each measured as a one-choice change to the preset
CHOICES = {"init": ("noise", "content", "style-colours"), "scales": (1, 2, 3),
           "coarse_tolerance": (0.3, 0.1, 0.03), "coarse_evaluations": (15, 30, 60),
           "lbfgs_corrections": (5, 10, 20), "tolerance": (0.5, 0.4, 0.3),
           "tolerance_steps": (1, 3, 5)}
CONTENT_SLACK = 1.25  # the seed's quality: its total loss or less, and at most 1.25x its content
NETWORK_NAMES = {"vgg16-hed": "VGG16/HED (pretrained)", "vgg19": "VGG19 (random weights)"}
NAN = float("nan")


def sweep_candidates() -> dict[str, dict]:
    """Each one-choice change to the preset (which the "fast" runs measure), by name:
    {name: StyleConfig fields}."""
    found = {}
    for name, values in CHOICES.items():
        for value in values:
            if FAST.get(name) != value:
                found[f"{name} {value}"] = {**FAST, name: value}
    return found


def plot(results: list[dict], size: str, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    networks = [n for n in NETWORK_NAMES if any(r["network"] == n for r in results)]
    figure = Figure(figsize=(5.5 * len(networks), 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, network in zip(figure.subplots(1, len(networks), squeeze=False)[0], networks):
        runs = [r for r in results if r["network"] == network and r["size"] == size
                and r["variant"] in VARIANTS and "failed" not in r]
        for run in {r["variant"]: r for r in reversed(runs)}.values():  # the first of each
            rows = [row for row in run["timeline"] if row[1] == size]
            axes.plot([row[0] for row in rows], [row[3] for row in rows], label=run["variant"],
                      marker="o" if len(rows) < 3 else None)
        target = next((r["final_loss"] for r in runs if r["variant"] == "reference"), None)
        if target is not None:
            axes.axhline(target, color="grey", linestyle=":", label="reference's final loss")
        axes.set_yscale("log")
        axes.set_xlabel("wall time (s), graph building included")
        axes.set_ylabel(f"total loss at {size}")
        axes.set_title(f"{NETWORK_NAMES[network]}, {size}", fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.savefig(path)


def side_by_side(results: list[dict], pictures: dict[tuple[str, str], str], path: str) -> None:
    """The reference's result beside the first run of each --fast variant that was run, one
    row per size, each titled with its time and losses. ``pictures`` maps (size, variant) to
    the saved result."""
    import imageio.v3 as iio
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sizes = sorted({size for size, _ in pictures}, key=_pixels)
    shown = [name for name in PICTURED if any(variant == name for _, variant in pictures)]
    figure = Figure(figsize=(4.5 * len(shown), 4.2 * len(sizes)), dpi=100,
                    layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(len(sizes), len(shown), squeeze=False)
    for row, size in zip(grid, sizes):
        for axes, variant in zip(row, shown):
            label = PICTURED[variant]
            run = next(r for r in results if r["network"] == "vgg16-hed" and r["size"] == size
                       and r["variant"] == variant)
            axes.imshow(iio.imread(pictures[size, variant]))
            axes.set_title(f"{label}, {size}: {run['seconds']:.1f} s\nloss {run['final_loss']:.0f}"
                           f", content {run['final_content']:.2f}", fontsize=10)
            axes.axis("off")
    figure.savefig(path, pil_kwargs={"quality": 90})


def full_size_evaluations(result: dict) -> float:
    """Loss-and-gradient evaluations of the run, each level's counted at its share of the full
    size's pixels: the work done, whatever else the machine was doing meanwhile."""
    last = {}
    for _, size, _, _, evaluations, *_ in result["timeline"]:
        last[size] = evaluations
    full = _pixels(result["size"])
    return sum(count * _pixels(size) / full for size, count in last.items())


def _pixels(size: str) -> int:
    height, width = (int(v) for v in size.split("x"))
    return height * width


def seed_quality(result: dict, reference: dict) -> bool:
    """Whether ``result`` ended at the seed configuration's quality: a total loss at or below
    the reference's final one, and a content loss at most CONTENT_SLACK times its."""
    return result["final_loss"] <= reference["final_loss"] and \
        result["final_content"] <= CONTENT_SLACK * reference["final_content"]


def table(results: list[dict]) -> str:
    header = ("network", "size", "variant", "outcome", "seconds", "÷ ref", "final loss",
              "content", "seed quality", "steps", "evals", "full-size evals", "÷ ref",
              "ms/step", "peak MB", "est. MB", "others")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['network']} | {r['size']} | {r['variant']} | failed "
                         f"({r['failed']}) |" + " |" * (len(header) - 4))
            continue
        reference = next(x for x in results if x["network"] == r["network"]
                         and x["size"] == r["size"] and x["variant"] == "reference")
        reached = r["outcome"] != "gave up"
        ratio = r["seconds"] / reference["seconds"] if reached else float("nan")
        work = full_size_evaluations(r)
        work_ratio = work / full_size_evaluations(reference) if reached else float("nan")
        row = (r["network"], r["size"], r["variant"], r["outcome"], f"{r['seconds']:.1f}",
               f"{ratio:.3f}", f"{r['final_loss']:.4g}", f"{r['final_content']:.3g}",
               "yes" if seed_quality(r, reference) else "no", r["steps"], r["evaluations"],
               f"{work:.1f}", f"{work_ratio:.3f}", f"{r['ms_per_full_step']:.0f}",
               f"{r['peak_mb']:.0f}", f"{r['estimate_mb']:.0f}", f"{r['other_cores']:.2f}")
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def fast_summary(results: list[dict], variant: str = "fast") -> str:
    """Per network and size: the reference, the runs of ``variant`` (one of FAST_VARIANTS)
    and their median against it."""
    header = ("network", "size", "reference s", f"{FAST_VARIANTS[variant]} runs, s",
              "median s", "÷ ref", "full-size evals ÷ ref", "loss (ref)",
              "content (ref × 1.25)", "seed quality")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for reference in (r for r in results if r["variant"] == "reference" and "failed" not in r):
        runs = [r for r in results if r["variant"] == variant and "failed" not in r
                and r["network"] == reference["network"] and r["size"] == reference["size"]]
        if not runs:
            continue
        median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        work = full_size_evaluations(median) / full_size_evaluations(reference)
        row = (reference["network"], reference["size"], f"{reference['seconds']:.1f}",
               ", ".join(f"{r['seconds']:.1f}" for r in runs), f"{median['seconds']:.1f}",
               f"**{median['seconds'] / reference['seconds']:.3f}**", f"{work:.3f}",
               f"{median['final_loss']:.4g} ({reference['final_loss']:.4g})",
               f"{median['final_content']:.3g} ({CONTENT_SLACK * reference['final_content']:.3g})",
               " / ".join("yes" if seed_quality(r, reference) else "no" for r in runs))
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def summaries(results: list[dict]) -> str:
    """The tables printed at the end: every run, the --fast summary (and fast-bf16's where it
    ran), the sweep's."""
    fast = [fast_summary(results, variant) for variant in FAST_VARIANTS
            if variant == "fast" or any(r["variant"] == variant for r in results)]
    return "\n\n".join([table(results), *fast, sweep_summary(results)])


def sweep_summary(results: list[dict]) -> str:
    """One row per --sweep candidate, one column per network and size: its time ÷ the
    reference's, and whether it ended at the seed's quality."""
    settings = [(r["network"], r["size"]) for r in results
                if r["variant"] == "reference" and "failed" not in r]
    names = ["fast"] + [f"sweep: {name}" for name in sweep_candidates()]
    header = ("candidate", *(f"{network} {size}" for network, size in settings))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in names:
        cells = []
        for network, size in settings:
            reference = next(r for r in results if r["variant"] == "reference"
                             and r["network"] == network and r["size"] == size)
            run = next((r for r in results if r["variant"] == name and r["network"] == network
                        and r["size"] == size), None)
            if run is None or "failed" in run or run["outcome"] == "gave up":
                cells.append("—" if run is None else "failed" if "failed" in run else "gave up")
                continue
            mark = "" if seed_quality(run, reference) else " ✗"
            cells.append(f"{run['seconds'] / reference['seconds']:.3f}, "
                         f"{run['final_loss']:.4g}{mark}")
        if any(cell != "—" for cell in cells):
            label = "preset (--fast, first run)" if name == "fast" else name[len("sweep: "):]
            lines.append("| " + " | ".join((label, *cells)) + " |")
    return "\n".join(lines)
