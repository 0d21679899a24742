import { useEffect, useRef } from "react";
import type { EChartsOption } from "echarts";

/** ECharts wrapper: loads the library on first use, follows the theme and the container's size. */
export function Chart({ option, height = 260, label }: { option: EChartsOption; height?: number; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let disposed = false;
    let cleanup = () => {};
    void import("echarts").then((echarts) => {
      if (disposed || !ref.current) return;
      const dark = document.documentElement.dataset.theme === "dark";
      const chart = echarts.init(ref.current, dark ? "dark" : undefined, { renderer: "svg" });
      chart.setOption({ backgroundColor: "transparent", ...option });
      const observer = new ResizeObserver(() => chart.resize());
      observer.observe(ref.current);
      cleanup = () => {
        observer.disconnect();
        chart.dispose();
      };
    });
    return () => {
      disposed = true;
      cleanup();
    };
  }, [option]);
  return <div ref={ref} role="img" aria-label={label} style={{ height, width: "100%" }} />;
}
