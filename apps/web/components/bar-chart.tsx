"use client";

export interface Series {
  name: string;
  color: string;
  values: number[];
}

/**
 * Stacked bars as SVG, one per label, with the numbers in a table for screen readers.
 * Small on purpose: a chart library would cost more than the whole page.
 */
export function BarChart({ title, labels, series }: { title: string; labels: string[]; series: Series[] }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const w = 600;
  const h = 160;
  const bar = w / Math.max(1, labels.length);
  return (
    <figure>
      <svg viewBox={`0 0 ${w} ${h + 20}`} className="h-auto w-full" role="img" aria-label={title}>
        <title>{title}</title>
        {labels.map((label, i) => {
          let y = h;
          return (
            <g key={label}>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const bh = (v / max) * (h - 10);
                y -= bh;
                return (
                  <rect
                    key={s.name}
                    x={i * bar + 1}
                    y={y}
                    width={Math.max(1, bar - 2)}
                    height={bh}
                    fill={s.color}
                  />
                );
              })}
              {labels.length <= 31 && i % Math.ceil(labels.length / 8) === 0 ? (
                <text x={i * bar + bar / 2} y={h + 14} fontSize="10" textAnchor="middle" fill="#334155">
                  {label.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-3 text-xs">
        {series.map((s) => (
          <span key={s.name} className="flex items-center gap-1">
            <span aria-hidden="true" className="inline-block h-3 w-3" style={{ background: s.color }} />
            {s.name}
          </span>
        ))}
      </figcaption>
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">day</th>
            {series.map((s) => (
              <th key={s.name} scope="col">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((label, i) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {series.map((s) => (
                <td key={s.name}>{s.values[i] ?? 0}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
