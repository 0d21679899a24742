import { useEffect, useRef, useState } from "react";
import type { EChartsOption } from "echarts";

function currentTheme(): string {
  return document.documentElement.dataset.theme ?? "light";
}

/** ECharts wrapper: loads the library on first use, follows the theme and the container's size. */
/** `option` may depend on the theme (e.g. a heatmap's colour ramp) when it is a function of it. */
export function Chart({ option, height = 260, label }: { option: EChartsOption | ((theme: string) => EChartsOption); height?: number; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [theme, setTheme] = useState(currentTheme);
  useEffect(() => {
    const observer = new MutationObserver(() => setTheme(currentTheme()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    let disposed = false;
    let cleanup = () => {};
    void import("../lib/echarts").then(({ echarts }) => {
      if (disposed || !ref.current) return;
      const chart = echarts.init(ref.current, theme === "dark" ? "dark" : undefined, { renderer: "svg" });
      chart.setOption({ backgroundColor: "transparent", ...(typeof option === "function" ? option(theme) : option) });
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
  }, [option, theme]);
  return <div ref={ref} role="img" aria-label={label} style={{ height, width: "100%" }} />;
}
