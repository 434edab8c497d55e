"""Statistics and dashboards (统计分析): daily rollups kept current as events happen, the indicators
defined once over their sums, and the read service the dashboards, open data page and exports use."""
