"use client";
/**
 * LinesChart: a recharts line chart of several lines, each with its own points, on a numeric x
 * axis (optimizer step, or wall time in ms). A line may carry its raw values: they are drawn
 * thin and faint under the smoothed line, as TensorBoard and W&B do, so smoothing never hides
 * what was measured. Animation is off: live data would otherwise re-animate on every point.
 *
 * The x axis ticks only whole numbers: a step axis never shows a step 1.25.
 *
 * Props: lines ({ id, label, points, raw? }[]), xAxis ("step" | "wall"), height (px, default 220).
 */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Point, XAxisMode } from "@/lib/charts/series";
import { formatMetric as formatY } from "@/lib/sdpo/metric-names";

export type ChartLineInput = { id: string; label: string; points: Point[]; raw?: Point[] };

export const LINE_COLOURS = ["#4f8cff", "#3fb97f", "#e0b341", "#f0616d", "#b07cff", "#3fc7d0", "#ff9f4f", "#d7dae0"];

function formatX(x: number, mode: XAxisMode): string {
  switch (mode) {
    case "step":
      return String(x);
    case "wall":
      return new Date(x).toISOString().slice(5, 16).replace("T", " ");
    default: {
      const never: never = mode;
      throw new Error(`unknown x axis ${String(never)}`);
    }
  }
}

export function LinesChart({
  lines,
  xAxis,
  height = 220,
}: {
  lines: ChartLineInput[];
  xAxis: XAxisMode;
  height?: number;
}) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart margin={{ top: 8, right: 12, bottom: 4, left: 4 }}>
        <CartesianGrid stroke="#2a303a" strokeDasharray="3 3" />
        <XAxis
          type="number"
          dataKey="x"
          domain={["dataMin", "dataMax"]}
          tickFormatter={(x: number) => formatX(x, xAxis)}
          stroke="#8b93a1"
          fontSize={11}
          allowDuplicatedCategory={false}
          // Steps are whole: without this, two steps get ticks at 1, 1.25, 1.5 … (wall time is whole ms anyway).
          allowDecimals={false}
        />
        <YAxis stroke="#8b93a1" fontSize={11} width={56} tickFormatter={formatY} domain={["auto", "auto"]} />
        <Tooltip
          contentStyle={{ background: "#161a20", border: "1px solid #2a303a", fontSize: 12 }}
          labelFormatter={(x) => formatX(Number(x), xAxis)}
          formatter={(y) => formatY(Number(y))}
        />
        {lines.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
        {lines.flatMap((line, i) => {
          const colour = LINE_COLOURS[i % LINE_COLOURS.length];
          const drawn = [
            <Line
              key={`${line.id}:smoothed`}
              name={line.label}
              data={line.points}
              dataKey="y"
              stroke={colour}
              strokeWidth={1.75}
              dot={false}
              isAnimationActive={false}
            />,
          ];
          if (line.raw) {
            drawn.unshift(
              <Line
                key={`${line.id}:raw`}
                name={`${line.label} (raw)`}
                data={line.raw}
                dataKey="y"
                stroke={colour}
                strokeOpacity={0.25}
                strokeWidth={1}
                dot={false}
                legendType="none"
                isAnimationActive={false}
              />,
            );
          }
          return drawn;
        })}
      </LineChart>
    </ResponsiveContainer>
  );
}
