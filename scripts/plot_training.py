"""Plot training curves from `needle-router train` logs (the plain "step N loss L step-acc A ... Ts"
lines it prints when stdout is not a terminal): loss and step accuracy against CPU minutes.

    python scripts/plot_training.py --out docs/training-curves.png B=runs/B.log D=runs/D.log
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

LINE = re.compile(r"^step (\d+) loss ([\d.]+) step-acc ([\d.]+) .* (\d+)s$")


def read_log(path: Path) -> list[tuple[int, float, float, float]]:
    """(step, loss, step accuracy, minutes) per logged step."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line.strip())
        if m:
            rows.append((int(m[1]), float(m[2]), float(m[3]), int(m[4]) / 60))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="NAME=LOG")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--smooth", type=int, default=5, help="moving average over this many logged points")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for spec in args.runs:
        name, _, log = spec.partition("=")
        rows = read_log(Path(log))
        if not rows:
            raise SystemExit(f"no step lines in {log}")
        k = max(1, args.smooth)
        minutes = [r[3] for r in rows][k - 1:]
        for ax, col in ((ax_loss, 1), (ax_acc, 2)):
            ys = [r[col] for r in rows]
            avg = [sum(ys[i - k + 1 : i + 1]) / k for i in range(k - 1, len(ys))]
            ax.plot(minutes, avg, label=f"{name} ({rows[-1][0]} steps)")
    ax_loss.set(xlabel="training minutes (2-core CPU)", ylabel="training loss", title="loss")
    ax_acc.set(xlabel="training minutes (2-core CPU)", ylabel="step accuracy (teacher forced)", title="step accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
    save(fig, (ax_loss, ax_acc), args.out)


def save(fig: object, axes: tuple, out: Path) -> None:
    """The house style of the docs' figures (light grid, tight layout, 110 dpi), written to `out`."""
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
