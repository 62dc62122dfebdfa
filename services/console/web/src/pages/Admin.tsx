import { useCallback, useEffect, useState } from "react";
import { Alert, App as AntApp, Button, Card, Form, Input, InputNumber, Modal, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { api, fieldErrors, PageOf, problemText, query } from "../api";
import { ConfirmAction } from "../Action";
import { AUDIT_TARGET, DETAIL_KEY, DETAIL_VALUE, PREFECTURES, ROLE, auditAction, detailValue, formatValue, label, percent } from "../labels";
import { ProgramOut, usePrograms } from "./Dashboard";

type Row = Record<string, any>;

function useList(url: string) {
  const [items, setItems] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.get<PageOf<Row>>(url).then((p) => { setItems(p.items); setError(null); }, (e) => setError(problemText(e)));
  }, [url]);
  useEffect(load, [load]);
  return { items, error, reload: load };
}

/** A create form: a refused write shows each named field's message beside it, and the detail below. */
function CreateForm({ fields, submitText, onSubmit }: {
  fields: { name: string; label: string; input: React.ReactNode; required?: boolean }[];
  submitText: string; onSubmit: (v: Row) => Promise<unknown>;
}) {
  const [form] = Form.useForm();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (values: Row) => {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(values);
      form.resetFields();
    } catch (e) {
      const byField = fieldErrors(e);
      form.setFields(fields.filter((f) => byField[f.name]).map((f) => ({ name: f.name, errors: [byField[f.name]] })));
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form form={form} layout="inline" onFinish={submit} style={{ rowGap: 8 }}>
      {fields.map((f) => (
        <Form.Item key={f.name} name={f.name} label={f.label}
                   rules={f.required === false ? [] : [{ required: true, message: `请填写${f.label}` }]}>{f.input}</Form.Item>
      ))}
      <Form.Item><Button type="primary" htmlType="submit" loading={busy}>{submitText}</Button></Form.Item>
      {error && <Alert type="error" showIcon message={error} style={{ width: "100%", marginTop: 8 }} data-testid="form-error" />}
    </Form>
  );
}

function Users() {
  const { items, error, reload } = useList(`/api/registry/users${query({ limit: 500 })}`);
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title="新建用户">
        <CreateForm submitText="创建" onSubmit={async (v) => { await api.post("/api/registry/users", { ...v, prefecture_code: v.prefecture_code || null }); reload(); }}
          fields={[
            { name: "username", label: "用户名", input: <Input style={{ width: 140 }} /> },
            { name: "display_name", label: "姓名", input: <Input style={{ width: 120 }} /> },
            { name: "role", label: "角色", input: <Select style={{ width: 120 }} options={["admin", "viewer", "prefecture"].map((r) => ({ value: r, label: label(ROLE, r) }))} /> },
            { name: "prefecture_code", label: "市州", required: false, input: <Select allowClear style={{ width: 130 }} options={Object.entries(PREFECTURES).map(([value, l]) => ({ value, label: l }))} /> },
            { name: "password", label: "初始密码", input: <Input.Password style={{ width: 160 }} autoComplete="new-password" /> },
          ]} />
      </Card>
      {error ? <Alert type="error" message={error} /> : (
        <Table rowKey="id" loading={items === null} dataSource={items ?? []} size="middle" pagination={{ pageSize: 20 }} scroll={{ x: 900 }}
               data-testid="users" columns={[
          { title: "用户名", dataIndex: "username" },
          { title: "姓名", dataIndex: "display_name" },
          { title: "角色", dataIndex: "role", render: (r: string) => label(ROLE, r) },
          { title: "市州", dataIndex: "prefecture_code", render: (c: string | null) => (c ? label(PREFECTURES, c) : "全省") },
          { title: "状态", render: (_: unknown, u: Row) => (
            <Space>
              {u.active ? <Tag color="success">启用</Tag> : <Tag>停用</Tag>}
              {u.locked_until && new Date(u.locked_until) > new Date() && <Tag color="error" data-testid={`locked-${u.username}`}>已锁定</Tag>}
              {u.failed_sign_ins > 0 && <Typography.Text type="secondary">连续失败 {u.failed_sign_ins} 次</Typography.Text>}
            </Space>
          ) },
          { title: "操作", render: (_: unknown, u: Row) => (
            <Space>
              <ConfirmAction title={`解锁用户 ${u.username}`} buttonText="解锁" testId={`unlock-${u.username}`} onDone={reload}
                             onConfirm={() => api.post(`/api/registry/users/${u.id}/unlock`)} />
              <ConfirmAction title={u.active ? `停用用户 ${u.username}` : `启用用户 ${u.username}`} buttonText={u.active ? "停用" : "启用"}
                             danger={u.active} onDone={reload} onConfirm={() => api.patch(`/api/registry/users/${u.id}`, { active: !u.active })} />
              <ConfirmAction title={`重置 ${u.username} 的密码`} buttonText="重置密码" onDone={reload}
                             fields={[{ name: "password", label: "新密码（至少 12 位）", input: <Input.Password autoComplete="new-password" /> }]}
                             onConfirm={(v) => api.post(`/api/registry/users/${u.id}/password`, { password: v.password })} />
            </Space>
          ) },
        ]} />
      )}
    </Space>
  );
}

function Clients() {
  const { items, error, reload } = useList(`/api/registry/auth/clients${query({ limit: 500 })}`);
  const [created, setCreated] = useState<Row | null>(null);
  const { message } = AntApp.useApp();
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title="新建 API 客户端（合作平台或银行）">
        <CreateForm submitText="创建" onSubmit={async (v) => { setCreated(await api.post("/api/registry/auth/clients", v)); reload(); }}
          fields={[
            { name: "name", label: "名称", input: <Input style={{ width: 200 }} /> },
            { name: "role", label: "角色", input: <Select style={{ width: 130 }} options={["partner", "bank"].map((r) => ({ value: r, label: label(ROLE, r) }))} /> },
            { name: "org_id", label: "所属机构 ID", input: <Input style={{ width: 300 }} /> },
          ]} />
      </Card>
      <Modal open={created !== null} title="客户端已创建" onOk={() => setCreated(null)} onCancel={() => setCreated(null)}
             okText="我已保存" cancelButtonProps={{ style: { display: "none" } }} closable={false} maskClosable={false}>
        <Alert type="warning" showIcon message="密钥只显示这一次，关闭后无法再次查看。" style={{ marginBottom: 12 }} />
        <Typography.Paragraph>客户端 ID：<Typography.Text code data-testid="new-client-id">{created?.client_id}</Typography.Text></Typography.Paragraph>
        <Space.Compact style={{ width: "100%" }}>
          <Input readOnly value={created?.client_secret ?? ""} data-testid="new-client-secret" aria-label="客户端密钥" />
          <Button onClick={async () => {
            try { await navigator.clipboard.writeText(created?.client_secret ?? ""); message.success("已复制"); }
            catch { message.warning("无法访问剪贴板，请手动复制"); }
          }}>复制</Button>
        </Space.Compact>
      </Modal>
      {error ? <Alert type="error" message={error} /> : (
        <Table rowKey="client_id" loading={items === null} dataSource={items ?? []} size="middle" pagination={{ pageSize: 20 }}
               data-testid="clients" columns={[
          { title: "客户端 ID", dataIndex: "client_id" },
          { title: "名称", dataIndex: "name" },
          { title: "角色", dataIndex: "role", render: (r: string) => label(ROLE, r) },
          { title: "机构", dataIndex: "org_id" },
          { title: "状态", dataIndex: "active", render: (a: boolean) => (a ? <Tag color="success">启用</Tag> : <Tag>停用</Tag>) },
          { title: "操作", render: (_: unknown, c: Row) => c.active ? (
            <ConfirmAction title={`停用客户端 ${c.client_id}`} buttonText="停用" danger onDone={reload}
                           onConfirm={() => api.patch(`/api/registry/auth/clients/${c.client_id}`, { active: false })} />
          ) : (
            <ConfirmAction title={`启用客户端 ${c.client_id}`} buttonText="启用" onDone={reload}
                           onConfirm={() => api.patch(`/api/registry/auth/clients/${c.client_id}`, { active: true })} />
          ) },
        ]} />
      )}
    </Space>
  );
}

/** Money and rates travel as decimal strings, counts as JSON integers (CONTRACT §8, §9). */
function targetValue(unit: string, value: unknown): number | string {
  return unit === "yuan" || unit === "rate" ? String(value) : Number(value);
}

function Targets() {
  const { programs, error } = usePrograms();
  const [programId, setProgramId] = useState<string>("gz-2021-2023");
  const [program, setProgram] = useState<Row | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.get<Row>(`/api/metrics/programs/${programId}`).then(setProgram, (e) => setLoadError(problemText(e)));
  }, [programId]);
  useEffect(load, [load]);
  if (error || loadError) return <Alert type="error" message={error ?? loadError} />;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Select aria-label="计划" style={{ width: 420 }} value={programId} onChange={setProgramId}
              options={(programs ?? []).map((p: ProgramOut) => ({ value: p.id, label: p.name }))} />
      <Table rowKey="id" loading={program === null} dataSource={program?.indicators ?? []} pagination={false} size="small"
             scroll={{ x: 900 }} columns={[
        { title: "指标", dataIndex: "name" },
        { title: "底线", render: (_: unknown, i: Row) => formatValue(i.unit, i.floor) },
        { title: "增长目标", dataIndex: "growth_target", render: (g: string | null) => percent(g) },
        { title: `基数（${program ? program.first_year - 1 : ""} 年）`, render: (_: unknown, i: Row) => formatValue(i.unit, program?.baseline?.values?.[i.id]) },
        { title: "操作", render: (_: unknown, i: Row) => (
          <Space>
            <ConfirmAction title={`修改目标：${i.name}`} buttonText="修改目标" onDone={load}
              fields={[
                { name: "floor", label: i.unit === "yuan" ? "底线（元，如 50000000.00；留空为无）"
                  : i.unit === "rate" ? "底线（如 0.1250 即 12.50%；留空为无）" : "底线（留空为无）", required: false, initial: i.floor ?? "", input: <Input /> },
                { name: "growth_target", label: "最低增长（如 0.1000 即 10%；留空为无）", required: false, initial: i.growth_target ?? "", input: <Input /> },
              ]}
              onConfirm={(v) => api.put(`/api/metrics/programs/${programId}`, { indicators: [{
                id: i.id,
                floor: v.floor === "" || v.floor === undefined ? null : targetValue(i.unit, v.floor),
                growth_target: v.growth_target === "" || v.growth_target === undefined ? null : String(v.growth_target),
              }] })} />
            {program && i.unit !== "ratio" && (
              <ConfirmAction title={`修改基数：${i.name}`} buttonText="修改基数" onDone={load}
                fields={[{ name: "value", label: `${program.first_year - 1} 年的值`, initial: program.baseline?.values?.[i.id] ?? "", input: <Input /> }]}
                onConfirm={(v) => api.put(`/api/metrics/programs/${programId}/baselines/${program.first_year - 1}`, {
                  values: { ...(program.baseline?.values ?? {}), [i.id]: targetValue(i.unit, v.value) } })} />
            )}
          </Space>
        ) },
      ]} />
    </Space>
  );
}

const SERVICES = [
  { value: "registry", label: "登记服务（机构、专利、账户）" }, { value: "transactions", label: "交易服务" },
  { value: "pledge", label: "质押服务" }, { value: "product-filing", label: "专利产品备案服务" },
  { value: "metrics", label: "指标服务" }, { value: "market", label: "市场服务（开放许可、技术需求）" },
];

function AuditDetails({ details, industries }: { details: unknown; industries: Record<string, string> }) {
  if (details === null || details === undefined) return <>—</>;
  if (typeof details !== "object" || Array.isArray(details)) return <>{detailValue(details)}</>;
  const entries = Object.entries(details as Row);
  if (entries.length === 0) return <>—</>;
  const codes: Record<string, Record<string, string>> = { ...DETAIL_VALUE, industry: industries, sme_sector: industries };
  const shown = (key: string, value: unknown) =>
    typeof value === "string" && codes[key]?.[value] ? codes[key][value] : detailValue(value);
  return (
    <Space direction="vertical" size={0} style={{ maxWidth: 520 }}>
      {entries.map(([key, value]) => (
        <Typography.Text key={key} ellipsis={{ tooltip: shown(key, value) }} style={{ maxWidth: 520 }}>
          <Typography.Text type="secondary">{DETAIL_KEY[key] ?? key}：</Typography.Text>{shown(key, value)}
        </Typography.Text>
      ))}
    </Space>
  );
}

function Audit() {
  const [service, setService] = useState("registry");
  const { items, error } = useList(`/api/${service}/audit${query({ limit: 200 })}`);
  const staff = useList(`/api/registry/users${query({ limit: 500 })}`);
  const staffName = Object.fromEntries((staff.items ?? []).map((u) => [u.id, `${u.display_name}（${u.username}）`]));
  const [industries, setIndustries] = useState<Record<string, string>>({});
  useEffect(() => {
    api.get<{ items: { id: string; label: string }[] }>("/api/registry/industries").then(
      (list) => setIndustries(Object.fromEntries(list.items.map((i) => [i.id, i.label]))), () => undefined);
  }, []);
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Select aria-label="服务" value={service} onChange={setService} options={SERVICES} style={{ width: 300 }} />
      {error ? <Alert type="error" message={error} /> : (
        <Table rowKey="id" loading={items === null} dataSource={items ?? []} size="small" pagination={{ pageSize: 20 }}
               scroll={{ x: 1000 }} locale={{ emptyText: "暂无审计记录" }} data-testid="audit" columns={[
          { title: "时间", dataIndex: "at", width: 170, render: (t: string, r: Row) => new Date(t ?? r.created_at).toLocaleString("zh-CN") },
          { title: "操作人", dataIndex: "actor", width: 180, render: (a: string, r: Row) => (
            <span title={a}>{staffName[a] ?? a}{r.role ? <Typography.Text type="secondary"> · {label(ROLE, r.role)}</Typography.Text> : null}</span>
          ) },
          { title: "操作", dataIndex: "action", width: 180, render: (a: string) => (
            <span title={a} data-testid="audit-action">{auditAction(a)}</span>
          ) },
          { title: "对象", width: 220, render: (_: unknown, r: Row) => r.target_type || r.target_id
            ? <span>{label(AUDIT_TARGET, r.target_type)} <Typography.Text type="secondary" copyable={!!r.target_id}>{r.target_id ?? ""}</Typography.Text></span>
            : "—" },
          { title: "详情", dataIndex: "details", render: (d: unknown) => <AuditDetails details={d} industries={industries} /> },
        ]} />
      )}
    </Space>
  );
}

function Rebuild() {
  const [rebuild, setRebuild] = useState<Row | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!rebuild || rebuild.finished_at) return;
    const timer = window.setInterval(() => {
      api.get<Row>(`/api/metrics/admin/rebuild/${rebuild.id}`).then(setRebuild, (e) => setError(problemText(e)));
    }, 1000);
    return () => window.clearInterval(timer);
  }, [rebuild]);
  return (
    <Space direction="vertical">
      <Typography.Paragraph>丢弃指标投影，从事件日志重新计算。重建完成后数字应完全一致。</Typography.Paragraph>
      <ConfirmAction title="重建指标" buttonText="开始重建" danger testId="start-rebuild"
                     onConfirm={async () => { setError(null); setRebuild(await api.post<Row>("/api/metrics/admin/rebuild")); }} />
      {error && <Alert type="error" message={error} />}
      {rebuild && (
        <Card size="small" data-testid="rebuild-status">
          <Space direction="vertical">
            <span>状态：<Tag color={rebuild.status === "succeeded" || rebuild.status === "done" ? "success" : rebuild.status === "failed" ? "error" : "processing"}>{rebuild.status}</Tag></span>
            <span>已应用事件：{rebuild.events_applied}</span>
            <span>开始：{new Date(rebuild.requested_at).toLocaleString("zh-CN")}</span>
            {rebuild.finished_at && <span>完成：{new Date(rebuild.finished_at).toLocaleString("zh-CN")}</span>}
            {rebuild.detail && <span>{rebuild.detail}</span>}
          </Space>
        </Card>
      )}
    </Space>
  );
}

export function AdminPage() {
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Typography.Title level={3}>系统管理</Typography.Title>
      <Tabs items={[
        { key: "users", label: "工作人员", children: <div data-testid="admin-users-pane"><Users /></div> },
        { key: "clients", label: "API 客户端", children: <div data-testid="clients-pane"><Clients /></div> },
        { key: "targets", label: "计划目标与基数", children: <div data-testid="admin-targets-pane"><Targets /></div> },
        { key: "audit", label: "审计日志", children: <div data-testid="admin-audit-pane"><Audit /></div> },
        { key: "rebuild", label: "指标重建", children: <Rebuild /> },
      ]} />
    </Space>
  );
}
