import { useCallback, useEffect, useMemo, useState } from "react";
import { Alert, Card, Col, Empty, Progress, Radio, Row, Select, Space, Spin, Tag, Typography } from "antd";
import { api, PageOf, problemText, query } from "../api";
import { formatValue, percent } from "../labels";
import { Chart } from "../Chart";

export interface Indicator {
  id: string;
  name: string;
  unit: string;
  period: string;
  actual: number | string | null;
  previous: number | string | null;
  floor: number | string | null;
  growth: string | null;
  growth_target: string | null;
  floor_met: boolean | null;
  growth_met: boolean | null;
  met: boolean;
  pace?: number | string | null;
}
export interface ProgressOut {
  program_id: string;
  year: number;
  as_of: string | null;
  indicators: Indicator[];
}
export interface ProgramOut {
  id: string;
  name: string;
  first_year: number;
  last_year: number;
}

const POLL_MS = 2000;

export function usePrograms() {
  const [programs, setPrograms] = useState<ProgramOut[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<PageOf<ProgramOut> | ProgramOut[]>("/api/metrics/programs").then(
      (p) => setPrograms(Array.isArray(p) ? p : p.items),
      (e) => setError(problemText(e)),
    );
  }, []);
  return { programs, error };
}

export function defaultYear(program: ProgramOut): number {
  return Math.min(Math.max(new Date().getFullYear(), program.first_year), program.last_year);
}

export function ProgramYearPicker({ programs, programId, year, onChange }: {
  programs: ProgramOut[]; programId: string; year: number; onChange: (programId: string, year: number) => void;
}) {
  const program = programs.find((p) => p.id === programId);
  const years = program ? Array.from({ length: program.last_year - program.first_year + 1 }, (_, i) => program.first_year + i) : [];
  return (
    <Space wrap>
      <span>计划</span>
      <Select aria-label="计划" style={{ width: 420 }} value={programId}
              options={programs.map((p) => ({ value: p.id, label: p.name }))}
              onChange={(id) => { const p = programs.find((x) => x.id === id)!; onChange(id, defaultYear(p)); }} />
      <span>年度</span>
      <Select aria-label="年度" style={{ width: 110 }} value={year} data-testid="year-select"
              options={years.map((y) => ({ value: y, label: `${y} 年` }))} onChange={(y) => onChange(programId, y)} />
    </Space>
  );
}

/** A fraction (ratio, rate) is charted in percent; other units as they are. */
function chartScale(unit: string): number {
  return unit === "ratio" || unit === "rate" ? 100 : 1;
}

function chartUnit(unit: string): string {
  return chartScale(unit) === 100 ? "%" : unit === "yuan" ? "元" : "";
}

function numeric(value: number | string | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function IndicatorCard({ indicator, selected, onSelect, current }: {
  indicator: Indicator; selected: boolean; onSelect: () => void; current: boolean;
}) {
  const hasTarget = indicator.floor !== null || indicator.growth_target !== null;
  const noData = hasTarget && indicator.floor_met === null && indicator.growth_met === null;
  const status = !hasTarget ? <Tag data-testid="status">无目标</Tag>
    : noData ? <Tag data-testid="status">暂无数据</Tag>
    : indicator.met ? <Tag color="success" data-testid="status">已达标</Tag>
    : <Tag color="error" data-testid="status">未达标</Tag>;
  const ratio = indicator.floor !== null && numeric(indicator.floor) > 0
    ? Math.min(100, (numeric(indicator.actual) / numeric(indicator.floor)) * 100) : null;
  return (
    <Card size="small" hoverable onClick={onSelect} tabIndex={0} role="button"
          onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") onSelect(); }}
          data-testid={`indicator-${indicator.id}`} data-actual={String(indicator.actual ?? "")} data-met={String(indicator.met)}
          style={{ height: "100%", borderColor: selected ? "#1f5fa8" : !hasTarget || noData ? undefined : indicator.met ? "#52c41a" : "#ff4d4f",
                   borderWidth: selected ? 2 : 1 }}
          title={<span title={indicator.name}>{indicator.name}</span>} extra={status}>
      <Typography.Title level={4} style={{ margin: 0 }} data-testid="actual">
        {formatValue(indicator.unit, indicator.actual)}
      </Typography.Title>
      {indicator.floor !== null && (
        <>
          <Progress percent={Number((ratio ?? 0).toFixed(1))} status={indicator.floor_met ? "success" : "exception"} size="small"
                    format={(p) => `${p}%`} />
          <Typography.Text type="secondary">底线 {formatValue(indicator.unit, indicator.floor)}</Typography.Text>
        </>
      )}
      <div>
        <Typography.Text type="secondary">
          增长 {percent(indicator.growth)}
          {indicator.growth_target !== null && <>（目标 {percent(indicator.growth_target)}）</>}
        </Typography.Text>
        {indicator.growth_met !== null && (
          <Tag color={indicator.growth_met ? "success" : "error"} style={{ marginLeft: 8 }}>
            {indicator.growth_met ? "增长达标" : "增长未达标"}
          </Tag>
        )}
      </div>
      {current && indicator.pace !== undefined && indicator.pace !== null && (
        <Typography.Text type="secondary" data-testid="pace">按当前进度全年预计 {formatValue(indicator.unit, indicator.pace)}</Typography.Text>
      )}
      {!hasTarget && <Typography.Text type="secondary">未设定底线或增长目标</Typography.Text>}
    </Card>
  );
}

const BREAKDOWNS = [
  { value: "prefecture", label: "市州" },
  { value: "industry", label: "行业" },
  { value: "transferor_kind", label: "转让方类型" },
  { value: "month", label: "月份" },
];

function Breakdown({ programId, year, indicator }: { programId: string; year: number; indicator: Indicator }) {
  const [by, setBy] = useState("prefecture");
  const [items, setItems] = useState<{ key: string; label: string; value: number | string }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setItems(null);
    setError(null);
    api.get<{ items: { key: string; label: string; value: number | string }[] }>(
      `/api/metrics/programs/${programId}/progress/${indicator.id}/breakdown${query({ year, by })}`,
    ).then((b) => setItems(b.items), (e) => setError(problemText(e)));
  }, [programId, year, indicator.id, by]);
  const option = useMemo(() => ({
    tooltip: {},
    grid: { left: 80, right: 20, top: 20, bottom: 60 },
    xAxis: { type: "category", data: (items ?? []).map((i) => i.label || i.key), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", name: chartUnit(indicator.unit) },
    series: [{ type: "bar", data: (items ?? []).map((i) => Number(i.value) * chartScale(indicator.unit)),
               itemStyle: { color: "#1f5fa8" } }],
  }), [items, indicator.unit]);
  return (
    <Card size="small" title={`${indicator.name} · 分布`} extra={
      <Radio.Group value={by} onChange={(e) => setBy(e.target.value)} options={BREAKDOWNS} optionType="button" size="small" />
    }>
      {error ? <Alert type="warning" message={error} /> : items === null ? <Spin /> : items.length === 0 ? <Empty description="暂无数据" />
        : <Chart option={option} testId="breakdown-chart" />}
    </Card>
  );
}

function Trend({ programId, years, indicator }: { programId: string; years: number[]; indicator: Indicator }) {
  const [series, setSeries] = useState<(number | null)[] | null>(null);
  useEffect(() => {
    Promise.all(years.map((y) => api.get<ProgressOut>(`/api/metrics/programs/${programId}/progress${query({ year: y })}`)))
      .then((all) => setSeries(all.map((p) => {
        const found = p.indicators.find((i) => i.id === indicator.id);
        return found && found.actual !== null ? Number(found.actual) * chartScale(indicator.unit) : null;
      })), () => setSeries([]));
  }, [programId, years.join(","), indicator.id, indicator.actual]);
  const floor = indicator.floor === null ? null : Number(indicator.floor) * chartScale(indicator.unit);
  const option = useMemo(() => ({
    tooltip: { trigger: "axis" },
    legend: { data: ["实际", ...(floor !== null ? ["底线"] : [])] },
    grid: { left: 80, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: years.map((y) => `${y}`) },
    yAxis: { type: "value", name: chartUnit(indicator.unit) },
    series: [
      { name: "实际", type: "line", data: series ?? [], smooth: false },
      ...(floor !== null ? [{ name: "底线", type: "line", data: years.map(() => floor), lineStyle: { type: "dashed" } }] : []),
    ],
  }), [series, years.join(","), floor]);
  return (
    <Card size="small" title={`${indicator.name} · 三年趋势`}>
      {series === null ? <Spin /> : <Chart option={option} testId="trend-chart" />}
    </Card>
  );
}

export function DashboardPage() {
  const { programs, error: programsError } = usePrograms();
  const [programId, setProgramId] = useState<string | null>(null);
  const [year, setYear] = useState<number | null>(null);
  const [progress, setProgress] = useState<ProgressOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    if (programs && programs.length > 0 && programId === null) {
      const first = programs.find((p) => p.id === "gz-2021-2023") ?? programs[0];
      setProgramId(first.id);
      setYear(defaultYear(first));
    }
  }, [programs]);

  const load = useCallback(() => {
    if (!programId || !year) return;
    api.get<ProgressOut>(`/api/metrics/programs/${programId}/progress${query({ year })}`).then(
      (p) => { setProgress(p); setError(null); },
      (e) => setError(problemText(e)),
    );
  }, [programId, year]);

  useEffect(() => {
    setProgress(null);
    load();
    const timer = window.setInterval(load, POLL_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  if (programsError) return <Alert type="error" showIcon message="无法加载计划" description={programsError} />;
  if (!programs) return <Spin tip="加载中"><div style={{ height: 200 }} /></Spin>;
  if (programs.length === 0) return <Empty description="尚无计划" />;
  const program = programs.find((p) => p.id === programId);
  const years = program ? Array.from({ length: program.last_year - program.first_year + 1 }, (_, i) => program.first_year + i) : [];
  const chosen = progress?.indicators.find((i) => i.id === selected) ?? progress?.indicators[0];
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Space wrap style={{ justifyContent: "space-between", width: "100%" }}>
        <Typography.Title level={3} style={{ margin: 0 }}>总览</Typography.Title>
        {programId && year && <ProgramYearPicker programs={programs} programId={programId} year={year}
                                                 onChange={(p, y) => { setProgramId(p); setYear(y); }} />}
      </Space>
      {program && <Typography.Text strong>{program.name}</Typography.Text>}
      {error && <Alert type="error" showIcon message="无法加载进度" description={error} />}
      {progress === null && !error ? <Spin tip="加载中"><div style={{ height: 200 }} /></Spin> : progress && (
        <>
          <Typography.Text type="secondary" data-testid="as-of">
            数据截至：{progress.as_of ? new Date(progress.as_of).toLocaleString("zh-CN") : "尚无事件"}（每 2 秒自动刷新）
          </Typography.Text>
          <Row gutter={[16, 16]}>
            {progress.indicators.map((indicator) => (
              <Col key={indicator.id} xs={24} sm={12} lg={8} xxl={6}>
                <IndicatorCard indicator={indicator} selected={chosen?.id === indicator.id}
                               onSelect={() => setSelected(indicator.id)} current={year === new Date().getFullYear()} />
              </Col>
            ))}
          </Row>
          {chosen && programId && year && (
            <Row gutter={[16, 16]}>
              <Col xs={24} xl={12}><Trend programId={programId} years={years} indicator={chosen} /></Col>
              <Col xs={24} xl={12}><Breakdown programId={programId} year={year} indicator={chosen} /></Col>
            </Row>
          )}
        </>
      )}
    </Space>
  );
}
