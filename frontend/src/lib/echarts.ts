// Only the parts of ECharts the UI draws, so the lazily loaded chart chunk stays small.
import { HeatmapChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkPointComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

echarts.use([LineChart, HeatmapChart, GridComponent, LegendComponent, MarkPointComponent, TooltipComponent, VisualMapComponent, SVGRenderer]);

export { echarts };
