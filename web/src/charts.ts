// CPU and memory over the last minutes, drawn by uPlot: a sparkline in each visible row, larger charts
// with axes for the selected instance.
import uPlot from "uplot";
import type { Series } from "./store.js";
import { bytes, percent } from "./format.js";

const CPU = "#0072B2";
const MEM = "#CC79A7";

type Data = [number[], (number | null)[], (number | null)[]];

function data(series: Series | undefined): Data {
  return series ? [series.t, series.cpu, series.mem] : [[], [], []];
}

/** one small chart: CPU (blue, solid) and memory (pink, dashed) on scales of their own, no axes */
export function sparkline(parent: HTMLElement, width: number, height: number): uPlot {
  return new uPlot(
    {
      width,
      height,
      pxAlign: false,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: false }, cpu: { range: (_u, _min, max) => [0, Math.max(5, max ?? 0)] }, mem: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0) * 1.1] } },
      axes: [{ show: false }, { show: false, scale: "cpu" }, { show: false, scale: "mem" }],
      series: [{}, { stroke: CPU, width: 1.5, scale: "cpu", points: { show: false } }, { stroke: MEM, width: 1, dash: [3, 2], scale: "mem", points: { show: false } }],
    },
    [[], [], []],
    parent,
  );
}

/** a chart with axes and a legend for one figure of the selected instance */
export function chart(parent: HTMLElement, what: "cpu" | "mem", width: number): uPlot {
  const isCpu = what === "cpu";
  const axisStroke = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() || "#888";
  const format = (v: number | null): string => (v === null ? "–" : isCpu ? percent(v) : bytes(v));
  return new uPlot(
    {
      width,
      height: 120,
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, isCpu ? Math.max(5, max ?? 0) : Math.max(1, max ?? 0) * 1.1] } },
      axes: [
        { stroke: axisStroke, grid: { stroke: "rgba(128,128,128,0.2)" }, ticks: { stroke: "rgba(128,128,128,0.3)" } },
        { stroke: axisStroke, size: 70, values: (_u, ticks) => ticks.map((t) => format(t)), grid: { stroke: "rgba(128,128,128,0.2)" } },
      ],
      series: [{}, { label: isCpu ? "CPU (% of a core)" : "memory (RSS)", stroke: isCpu ? CPU : MEM, width: 2, value: (_u, v) => format(v), points: { show: false } }],
    },
    [[], []],
    parent,
  );
}

export function setSpark(plot: uPlot, series: Series | undefined): void {
  plot.setData(data(series) as uPlot.AlignedData);
}

export function setChart(plot: uPlot, series: Series | undefined, what: "cpu" | "mem"): void {
  const d = data(series);
  plot.setData([d[0], what === "cpu" ? d[1] : d[2]] as uPlot.AlignedData);
}
