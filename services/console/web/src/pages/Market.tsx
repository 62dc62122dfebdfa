// The market (市场服务): the open-licence catalogue (开放许可目录) and the technology demands (技术需求) with their
// matches. The market decides every rule; a refused write shows its problem in the dialog that made it.
import { useCallback, useEffect, useState } from "react";
import { Alert, Button, Card, Descriptions, Empty, Form, Input, Select, Space, Spin, Table, Tag, Typography } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, fieldErrors, PageOf, problemText, query } from "../api";
import { businessDay, ConfirmAction, today } from "../Action";
import { useUser } from "../App";
import { Failure } from "./Search";
import {
  DECLARATION_STATUS, DEMAND_STATUS, FEE_BASIS, MATCH_KIND, ORG_KIND, PATENT_TYPE, PREFECTURES, SIZE, feeText, formatValue, label,
} from "../labels";

interface Fee { basis: string; amount: string | null; rate: string | null; minimum: string | null; due_on_acceptance: string }
interface OpenLicence {
  id: string; status: string; patent_numbers: string[];
  patents: { number: string; title: string; type: string; ipc: string[] }[];
  declarant_ids: string[]; owner_kind: string; prefecture_code: string | null; industry: string | null; fee: Fee;
  term_years: number; contact: { name?: string; phone?: string; email?: string }; description: string | null;
  declared_on: string; withdrawn_on: string | null;
}
interface Acceptance {
  id: string; declaration_id: string; licensee_id: string; accepted_on: string; term_start: string; term_end: string;
  deal_id: string; fee_due: string;
}
interface Demand {
  id: string; status: string; sme_id: string; sme_name: string; title: string; description: string; ipc: string[];
  industry: string; budget: { min: string | null; max: string | null }; prefecture_code: string; posted_on: string;
  expires_on: string; expired_on: string | null;
}
interface Match {
  rank: number; patent_number: string; title: string; kind: string; declaration_id: string | null; score: string;
  reasons: { shared_terms: string[]; shared_ipc: string[]; fee_within_budget: boolean | null; same_industry: boolean;
             same_prefecture: boolean };
}
interface Organization { id: string; name: string; kind: string; size: string | null; prefecture_name?: string }

const MATCH_POLL_MS = 2000;

function useLoad<T>(url: string | null) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    if (!url) return;
    api.get<T>(url).then((d) => { setData(d); setError(null); }, (e) => { setData(null); setError(e); });
  }, [url]);
  useEffect(() => { setData(null); setError(null); load(); }, [load]);
  return { data, error, reload: load };
}

/** The registry's current industry list (versioned data, not a list baked into the console). */
function useIndustries(): Record<string, string> {
  const { data } = useLoad<{ items: { id: string; label: string }[] }>("/api/registry/industries");
  return Object.fromEntries((data?.items ?? []).map((i) => [i.id, i.label]));
}

/** The SMEs (enterprises of size micro, small or medium) a licence or a demand can be for. */
function useSmes(enabled: boolean): Organization[] {
  const { data } = useLoad<PageOf<Organization>>(enabled ? `/api/registry/organizations${query({ kind: "enterprise", limit: 500 })}` : null);
  return (data?.items ?? []).filter((o) => o.size === "micro" || o.size === "small" || o.size === "medium");
}

function smeOptions(smes: Organization[]) {
  return smes.map((o) => ({ value: o.id, label: `${o.name}（${label(SIZE, o.size)}${o.prefecture_name ? ` · ${o.prefecture_name}` : ""}）` }));
}

function optionsOf(map: Record<string, string>) {
  return Object.entries(map).map(([value, l]) => ({ value, label: l }));
}

// --- the open-licence catalogue ----------------------------------------------------------------------

const FILTER_FIELDS = ["q", "ipc", "industry", "prefecture_code", "fee_basis", "fee_min", "fee_max", "status"] as const;

interface CatalogueFilters {
  q?: string; ipc?: string; industry?: string; prefecture_code?: string; fee_basis?: string; fee_min?: string;
  fee_max?: string; status?: string;
}

function Acceptances({ declaration }: { declaration: OpenLicence }) {
  const { data, error } = useLoad<PageOf<Acceptance>>(`/api/market/open-licences/${declaration.id}/acceptances${query({ limit: 200 })}`);
  if (error) return <Alert type="warning" message={problemText(error)} />;
  return (
    <Table<Acceptance> rowKey="id" size="small" loading={data === null} dataSource={data?.items ?? []} pagination={false}
                       locale={{ emptyText: "尚无企业接受许可" }} data-testid={`acceptances-${declaration.id}`} columns={[
      { title: "被许可企业", dataIndex: "licensee_id", render: (id: string) => <OrgName id={id} /> },
      { title: "接受日期", dataIndex: "accepted_on" },
      { title: "许可期限", render: (_, a) => `${a.term_start} 至 ${a.term_end}` },
      { title: "应付许可费", dataIndex: "fee_due", render: (v: string) => formatValue("money", v) },
      { title: "许可交易", dataIndex: "deal_id", render: (id: string) => <Link to={`/deals/${id}`}>{id.slice(0, 8)}…</Link> },
    ]} />
  );
}

function OrgName({ id }: { id: string }) {
  const { data } = useLoad<Organization>(`/api/registry/organizations/${id}`);
  return <Link to={`/organizations/${id}`}>{data?.name ?? id.slice(0, 8) + "…"}</Link>;
}

function DeclarationDetail({ declaration, acceptances }: { declaration: OpenLicence; acceptances: boolean }) {
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Descriptions size="small" column={{ xs: 1, lg: 3 }} items={[
        { label: "技术领域说明", children: declaration.description ?? "—" },
        { label: "联系人", children: `${declaration.contact.name ?? "—"} ${declaration.contact.phone ?? ""}` },
        { label: "专利权人", children: declaration.declarant_ids.map((id, i) => <span key={id}>{i > 0 && "、"}<OrgName id={id} /></span>) },
        ...(declaration.withdrawn_on ? [{ label: "撤回日期", children: declaration.withdrawn_on }] : []),
      ]} />
      {acceptances && <Acceptances declaration={declaration} />}
    </Space>
  );
}

export function OpenLicencesPage() {
  const user = useUser();
  const admin = user.role === "admin";
  const industries = useIndustries();
  const smes = useSmes(admin);
  const initial: CatalogueFilters = { status: "active", prefecture_code: user.role === "prefecture" ? user.prefecture_code ?? undefined : undefined };
  const [filters, setFilters] = useState<CatalogueFilters>(initial);
  const [form] = Form.useForm<CatalogueFilters>();
  const [accepted, setAccepted] = useState<Acceptance | null>(null);
  const { data, error, reload } = useLoad<PageOf<OpenLicence>>(`/api/market/open-licences${query({ ...filters, limit: 200 })}`);
  useEffect(() => {  // a filter the market refuses (422) shows its message beside the field
    const byField = fieldErrors(error);
    form.setFields(FILTER_FIELDS.map((name) => ({ name, errors: byField[name] ? [byField[name]] : [] })));
  }, [error]);
  const smeName = (id: string) => smes.find((o) => o.id === id)?.name ?? id;
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>开放许可目录</Typography.Title>
      <Form form={form} layout="inline" initialValues={initial} onFinish={(v) => setFilters({ ...v })} style={{ rowGap: 8 }}
            data-testid="catalogue-filters">
        <Form.Item name="q" label="全文检索"><Input placeholder="如：茶叶 温度" allowClear style={{ width: 180 }} /></Form.Item>
        <Form.Item name="ipc" label="IPC 分类"><Input placeholder="如 G06F" allowClear style={{ width: 120 }} /></Form.Item>
        <Form.Item name="industry" label="行业">
          <Select allowClear placeholder="全部" style={{ width: 150 }} options={optionsOf(industries)} />
        </Form.Item>
        <Form.Item name="prefecture_code" label="市州">
          <Select allowClear placeholder="全部" style={{ width: 120 }} options={optionsOf(PREFECTURES)} />
        </Form.Item>
        <Form.Item name="fee_basis" label="付费方式">
          <Select allowClear placeholder="全部" style={{ width: 140 }} options={optionsOf(FEE_BASIS)} />
        </Form.Item>
        <Form.Item label="应付许可费（元）" style={{ marginInlineEnd: 16 }}>
          <Space.Compact>
            <Form.Item name="fee_min" noStyle><Input placeholder="最低" aria-label="最低许可费" style={{ width: 100 }} /></Form.Item>
            <Form.Item name="fee_max" noStyle><Input placeholder="最高" aria-label="最高许可费" style={{ width: 100 }} /></Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="status" label="状态">
          <Select style={{ width: 100 }} options={optionsOf(DECLARATION_STATUS)} />
        </Form.Item>
        <Form.Item>
          <Space>
            <Button type="primary" htmlType="submit" data-testid="catalogue-search">查询</Button>
            <Button onClick={() => { form.resetFields(); setFilters(initial); }}>重置</Button>
          </Space>
        </Form.Item>
      </Form>
      {accepted && (
        <Alert type="success" showIcon closable onClose={() => setAccepted(null)} data-testid="acceptance-result"
               message={`已为 ${smeName(accepted.licensee_id)} 接受开放许可，许可期限 ${accepted.term_start} 至 ${accepted.term_end}，应付许可费 ${formatValue("money", accepted.fee_due)}`}
               description={<span>已生成开放许可交易 <Link to={`/deals/${accepted.deal_id}`}>{accepted.deal_id}</Link>，待登记后计入指标。</span>} />
      )}
      {error ? <Alert type="error" showIcon message="查询条件有误或无法加载开放许可目录" description={problemText(error)} data-testid="catalogue-error" /> : (
        <Table<OpenLicence> rowKey="id" loading={data === null} dataSource={data?.items ?? []} data-testid="catalogue"
          locale={{ emptyText: <Empty description="没有符合条件的开放许可" /> }} pagination={{ pageSize: 20 }} scroll={{ x: 1100 }}
          expandable={{ expandedRowRender: (d) => <DeclarationDetail declaration={d} acceptances={user.role !== "prefecture"} /> }}
          onRow={(d) => ({ "data-testid": `declaration-${d.id}` }) as object}
          columns={[
            { title: "专利", key: "patents", width: 280, render: (_, d) => (
              <Space direction="vertical" size={0}>
                {d.patents.map((p) => (
                  <span key={p.number}><Link to={`/patents/${p.number}`}>{p.number}</Link> {p.title}
                    <Typography.Text type="secondary">（{label(PATENT_TYPE, p.type)}）</Typography.Text></span>
                ))}
              </Space>
            ) },
            { title: "领域", key: "field", width: 170, render: (_, d) => (
              <Space direction="vertical" size={2}>
                <span>{label(industries, d.industry)}</span>
                <span>{[...new Set(d.patents.flatMap((p) => p.ipc))].map((c) => <Tag key={c}>{c}</Tag>)}</span>
              </Space>
            ) },
            { title: "权利人类型", dataIndex: "owner_kind", width: 100, render: (k: string) => label(ORG_KIND, k) },
            { title: "市州", dataIndex: "prefecture_code", width: 90, render: (c: string | null) => label(PREFECTURES, c) },
            { title: "许可费", key: "fee", width: 220, render: (_, d) => (
              <Space direction="vertical" size={0}>
                <span>{feeText(d.fee)}</span>
                <Typography.Text type="secondary">接受时应付 {formatValue("money", d.fee.due_on_acceptance)}</Typography.Text>
              </Space>
            ) },
            { title: "期限", dataIndex: "term_years", width: 70, render: (y: number) => `${y} 年` },
            { title: "声明日期", dataIndex: "declared_on", width: 110 },
            { title: "状态", dataIndex: "status", width: 80, render: (s: string) => (
              <Tag color={s === "active" ? "success" : undefined}>{label(DECLARATION_STATUS, s)}</Tag>
            ) },
            ...(admin ? [{
              title: "操作", key: "actions", width: 170, render: (_: unknown, d: OpenLicence) => d.status !== "active" ? null : (
                <Space>
                  <ConfirmAction title="为中小企业接受开放许可（书面通知）" buttonText="接受许可" testId={`accept-${d.id}`}
                    description={<Typography.Paragraph type="secondary">
                      {d.patents.map((p) => p.title).join("、")}：{feeText(d.fee)}，接受时应付 {formatValue("money", d.fee.due_on_acceptance)}，
                      许可期限 {d.term_years} 年。接受后生成开放许可交易，待登记。
                    </Typography.Paragraph>}
                    fields={[
                      { name: "licensee_id", label: "被许可企业（中小企业）", input: (
                        <Select showSearch optionFilterProp="label" placeholder="选择企业" options={smeOptions(smes)} />
                      ) },
                      { name: "accepted_on", label: "接受日期（书面通知日期）", initial: today(), input: <Input placeholder="YYYY-MM-DD" /> },
                    ]}
                    onConfirm={async (v) => setAccepted(await api.post<Acceptance>(`/api/market/open-licences/${d.id}/acceptances`,
                      { licensee_id: v.licensee_id, accepted_on: v.accepted_on }))}
                    onDone={reload} />
                  <ConfirmAction title="撤回开放许可声明" buttonText="撤回" danger testId={`withdraw-${d.id}`} onDone={reload}
                    description={<Typography.Paragraph type="secondary">撤回后不再接受新的许可；已接受的许可继续有效。</Typography.Paragraph>}
                    fields={[{ name: "withdrawn_on", label: "撤回日期", initial: today(), input: <Input placeholder="YYYY-MM-DD" /> }]}
                    onConfirm={(v) => api.post(`/api/market/open-licences/${d.id}/withdraw`, { withdrawn_on: v.withdrawn_on })} />
                </Space>
              ),
            }] : []),
          ]} />
      )}
    </Space>
  );
}

// --- technology demands -----------------------------------------------------------------------------

function budgetText(budget: Demand["budget"]): string {
  if (budget.min === null && budget.max === null) return "面议";
  if (budget.min === null) return `不超过 ${formatValue("money", budget.max)}`;
  if (budget.max === null) return `不低于 ${formatValue("money", budget.min)}`;
  return `${formatValue("money", budget.min)} 至 ${formatValue("money", budget.max)}`;
}

export function DemandsPage() {
  const user = useUser();
  const admin = user.role === "admin";
  const industries = useIndustries();
  const smes = useSmes(admin);
  const [status, setStatus] = useState<string | undefined>("open");
  const [industry, setIndustry] = useState<string | undefined>();
  const [prefecture, setPrefecture] = useState<string | undefined>(user.role === "prefecture" ? user.prefecture_code ?? undefined : undefined);
  const { data, error, reload } = useLoad<PageOf<Demand>>(
    `/api/market/demands${query({ status, industry, prefecture_code: prefecture, limit: 200 })}`);
  const optional = (v: unknown) => (v === undefined || v === null || v === "" ? null : String(v));
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Space style={{ justifyContent: "space-between", width: "100%" }}>
        <Typography.Title level={3} style={{ margin: 0 }}>技术需求</Typography.Title>
        {admin && (
          <ConfirmAction title="为中小企业发布技术需求" buttonText="发布技术需求" testId="post-demand" onDone={reload}
            fields={[
              { name: "sme_id", label: "需求企业（中小企业）", input: <Select showSearch optionFilterProp="label" placeholder="选择企业" options={smeOptions(smes)} /> },
              { name: "title", label: "需求名称", input: <Input placeholder="如：茶叶杀青温度自动控制技术" /> },
              { name: "description", label: "需求描述", input: <Input.TextArea rows={3} placeholder="要解决的问题、产品、条件" /> },
              { name: "ipc", label: "IPC 分类（可多个，回车确认）", required: false, initial: [], input: <Select mode="tags" open={false} placeholder="如 A23F" /> },
              { name: "industry", label: "行业", input: <Select placeholder="选择行业" options={optionsOf(industries)} /> },
              { name: "prefecture_code", label: "实施地市州", initial: user.prefecture_code ?? undefined, input: <Select placeholder="选择市州" options={optionsOf(PREFECTURES)} /> },
              { name: "budget_min", label: "预算下限（元，可空）", required: false, input: <Input placeholder="如 10000.00" /> },
              { name: "budget_max", label: "预算上限（元，可空）", required: false, input: <Input placeholder="如 50000.00" /> },
              { name: "expires_on", label: "截止日期", initial: businessDay(90), input: <Input placeholder="YYYY-MM-DD" /> },
            ]}
            onConfirm={(v) => api.post("/api/market/demands", {
              sme_id: v.sme_id, title: v.title, description: v.description, ipc: v.ipc ?? [], industry: v.industry,
              prefecture_code: v.prefecture_code, budget_min: optional(v.budget_min), budget_max: optional(v.budget_max),
              expires_on: v.expires_on,
            })} />
        )}
      </Space>
      <Space wrap>
        <Select placeholder="状态" allowClear style={{ width: 120 }} value={status} onChange={setStatus} aria-label="状态"
                options={optionsOf(DEMAND_STATUS)} />
        <Select placeholder="行业" allowClear style={{ width: 160 }} value={industry} onChange={setIndustry} aria-label="行业"
                options={optionsOf(industries)} />
        <Select placeholder="市州" allowClear style={{ width: 140 }} value={prefecture} onChange={setPrefecture} aria-label="市州"
                options={optionsOf(PREFECTURES)} />
      </Space>
      {error ? <Failure error={error} what="技术需求" /> : (
        <Table<Demand> rowKey="id" loading={data === null} dataSource={data?.items ?? []} data-testid="demands"
          locale={{ emptyText: <Empty description="没有符合条件的技术需求" /> }} pagination={{ pageSize: 20 }} scroll={{ x: 1000 }}
          columns={[
            { title: "需求", dataIndex: "title", render: (t: string, d) => <Link to={`/demands/${d.id}`}>{t}</Link> },
            { title: "需求企业", dataIndex: "sme_name", render: (n: string, d) => <Link to={`/organizations/${d.sme_id}`}>{n}</Link> },
            { title: "行业", dataIndex: "industry", render: (i: string) => label(industries, i) },
            { title: "市州", dataIndex: "prefecture_code", render: (c: string) => label(PREFECTURES, c) },
            { title: "预算", dataIndex: "budget", render: (b: Demand["budget"]) => budgetText(b) },
            { title: "发布日期", dataIndex: "posted_on" },
            { title: "截止日期", dataIndex: "expires_on" },
            { title: "状态", dataIndex: "status", render: (s: string) => <Tag color={s === "open" ? "processing" : undefined}>{label(DEMAND_STATUS, s)}</Tag> },
          ]} />
      )}
    </Space>
  );
}

function yesNo(value: boolean | null, yes: string, no: string) {
  if (value === null) return null;
  return <Tag color={value ? "success" : "warning"}>{value ? yes : no}</Tag>;
}

function Reasons({ match }: { match: Match }) {
  const r = match.reasons;
  return (
    <Space direction="vertical" size={4}>
      {r.shared_terms.length > 0 && (
        <Space size={4} wrap>共同关键词：{r.shared_terms.map((t) => <Tag key={t} color="blue">{t}</Tag>)}</Space>
      )}
      {r.shared_ipc.length > 0 && <Space size={4} wrap>相同 IPC：{r.shared_ipc.map((c) => <Tag key={c}>{c}</Tag>)}</Space>}
      <Space size={4} wrap>
        {yesNo(r.fee_within_budget, "许可费在预算内", "许可费超出预算")}
        {r.same_industry && <Tag>同行业</Tag>}
        {r.same_prefecture && <Tag>同市州</Tag>}
      </Space>
    </Space>
  );
}

export function DemandDetail() {
  const { id } = useParams();
  const industries = useIndustries();
  const demand = useLoad<Demand>(`/api/market/demands/${id}`);
  const matches = useLoad<{ items: Match[] }>(`/api/market/demands/${id}/matches`);
  const none = matches.data !== null && matches.data.items.length === 0;
  // The matching job ranks a demand off the request path: until it has, ask again every few seconds.
  useEffect(() => {
    if (!none || demand.data?.status !== "open") return;
    const timer = window.setInterval(matches.reload, MATCH_POLL_MS);
    return () => window.clearInterval(timer);
  }, [none, demand.data?.status, matches.reload]);
  if (demand.error) return <Failure error={demand.error} what="技术需求" />;
  if (!demand.data) return <Spin />;
  const d = demand.data;
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>{d.title}</Typography.Title>
      <Descriptions bordered size="small" column={{ xs: 1, lg: 2, xxl: 3 }} items={[
        { label: "需求企业", children: <Link to={`/organizations/${d.sme_id}`}>{d.sme_name}</Link> },
        { label: "状态", children: label(DEMAND_STATUS, d.status) },
        { label: "行业", children: label(industries, d.industry) },
        { label: "实施地市州", children: label(PREFECTURES, d.prefecture_code) },
        { label: "IPC 分类", children: d.ipc.length ? d.ipc.map((c) => <Tag key={c}>{c}</Tag>) : "—" },
        { label: "预算", children: budgetText(d.budget) },
        { label: "发布日期", children: d.posted_on },
        { label: "截止日期", children: d.expires_on },
        { label: "需求描述", children: d.description, span: "filled" },
      ]} />
      <Card size="small" title="匹配结果（前 10 名）">
        {matches.error ? <Alert type="warning" message={problemText(matches.error)} /> : (
          <Table<Match> rowKey="patent_number" loading={matches.data === null} dataSource={matches.data?.items ?? []}
            pagination={false} data-testid="matches" scroll={{ x: 900 }}
            locale={{ emptyText: <Empty description={d.status === "open" ? "匹配计算中，稍后自动刷新…" : "没有匹配结果"} /> }}
            onRow={(m) => ({ "data-testid": `match-${m.patent_number}` }) as object}
            columns={[
              { title: "排名", dataIndex: "rank", width: 70 },
              { title: "专利", dataIndex: "patent_number", render: (n: string, m) => <span><Link to={`/patents/${n}`}>{n}</Link> {m.title}</span> },
              { title: "类型", dataIndex: "kind", width: 100, render: (k: string) => (
                <Tag color={k === "open_licence" ? "green" : "default"}>{label(MATCH_KIND, k)}</Tag>
              ) },
              { title: "匹配度", dataIndex: "score", width: 90 },
              { title: "匹配原因", key: "reasons", render: (_, m) => <Reasons match={m} /> },
            ]} />
        )}
      </Card>
    </Space>
  );
}
