import { ReactNode, useState } from "react";
import { Alert, Button, Form, Modal } from "antd";
import { fieldErrors, problemText } from "./api";

export interface FieldSpec {
  name: string;
  label: string;
  input: ReactNode;
  initial?: unknown;
  required?: boolean;
}

/** A write behind a confirmation dialog. A refused one keeps the dialog open with the problem's detail,
 *  and each field the problem names shows its message beside that field. */
export function ConfirmAction({ title, buttonText, fields = [], danger, onConfirm, onDone, testId, description }: {
  title: string;
  buttonText: string;
  fields?: FieldSpec[];
  danger?: boolean;
  description?: ReactNode;
  onConfirm: (values: Record<string, unknown>) => Promise<unknown>;
  onDone?: () => void;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm();
  const submit = async () => {
    let values: Record<string, unknown>;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(values);
      setOpen(false);
      onDone?.();
    } catch (e) {
      const byField = fieldErrors(e);
      const known = fields.map((f) => f.name).filter((n) => byField[n]);
      form.setFields(known.map((name) => ({ name, errors: [byField[name]] })));
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button size="small" danger={danger} type={danger ? "default" : "primary"} data-testid={testId}
              onClick={() => { form.resetFields(); setError(null); setOpen(true); }}>
        {buttonText}
      </Button>
      <Modal title={title} open={open} onCancel={() => setOpen(false)} onOk={submit} confirmLoading={busy}
             okText="确认" cancelText="取消" okButtonProps={{ danger }} destroyOnHidden>
        {description}
        <Form form={form} layout="vertical" onFinish={submit}
              initialValues={Object.fromEntries(fields.map((f) => [f.name, f.initial]))}>
          {fields.map((f) => (
            <Form.Item key={f.name} name={f.name} label={f.label}
                       rules={f.required === false ? [] : [{ required: true, message: `请填写${f.label}` }]}>
              {f.input}
            </Form.Item>
          ))}
        </Form>
        {error && <Alert type="error" showIcon message="操作被拒绝" description={error} data-testid="action-error" />}
      </Modal>
    </>
  );
}

/** The services' business day is China's (PB_BUSINESS_TIMEZONE, Asia/Shanghai), whatever the browser's zone:
 *  after 16:00 UTC it is already tomorrow there. */
const BUSINESS_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });

/** The business day `days` from today, YYYY-MM-DD. */
export function businessDay(days = 0): string {
  return BUSINESS_DAY.format(new Date(Date.now() + days * 86_400_000));
}

export function today(): string {
  return businessDay(0);
}
