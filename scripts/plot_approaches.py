"""Plot the compared approaches of issue 8 against training tokens: positive tool selection and
positive coverage on the dev suites, and exact calls on the 103 held-out toolsets, one series per
approach, with the issue's bar and the untrained references as lines. The points are the measured
rows of README.md's "Approaches compared" table, kept in docs/approaches.json.

    python scripts/plot_approaches.py --out docs/approach-curves.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from plot_training import save  # the docs' figure style (run from scripts/ or as a path)

HERE = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE / "docs" / "approaches.json")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(args.data.read_text(encoding="utf-8"))
    runs = data["runs"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
    panels = (("dev_tool", "right tool, dev suites (single calls, %)"),
              ("dev_coverage", "positive coverage, dev suites (%)"),
              ("heldout_exact", "exact calls, 103 held-out toolsets (%)"))
    approaches = list(dict.fromkeys(r["approach"] for r in runs))  # one colour each, in both panels
    for ax, (key, title) in zip(axes, panels, strict=True):
        for approach in approaches:
            pts = sorted((r["tokens_m"], r[key], r["name"]) for r in runs
                         if r["approach"] == approach and r.get(key) is not None)
            if not pts:
                continue
            xs, ys, names = zip(*pts, strict=True)
            ax.plot(xs, ys, "o", label=approach, color=f"C{approaches.index(approach)}")
            for x, y, n in pts if key not in data.get("bars", {}) else ():  # names crowd a flat row
                ax.annotate(n, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
        if key in data.get("bars", {}):
            ax.axhline(data["bars"][key], color="C3", linestyle="--", label="issue 8's bar")
            ax.set_ylim(-2, data["bars"][key] + 10)
            ax.legend(fontsize=8, loc="center right")
        for label, y in data.get("references", {}).get(key, {}).items():
            ax.axhline(y, color="grey", linestyle=":")
            ax.annotate(label, (0.01, y), xycoords=("axes fraction", "data"), xytext=(0, 3),
                        textcoords="offset points", fontsize=8, color="grey")
        ax.set_xlabel("training tokens, millions (from the pretrained encoder on)")
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8, loc="lower right")
    save(fig, tuple(axes), args.out)


if __name__ == "__main__":
    main()
