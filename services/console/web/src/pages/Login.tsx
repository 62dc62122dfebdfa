import { useState } from "react";
import { Alert, Button, Card, Form, Input, Typography } from "antd";
import { api, problemText, User } from "../api";

export function LoginPage({ onSignedIn }: { onSignedIn: (s: { user: User; csrf_token: string }) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (values: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.post("/console/api/login", values));
    } catch (e) {
      setError(problemText(e, { 401: "用户名或密码错误" }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ minHeight: "100vh", display: "flex", alignItems: "center", justifyContent: "center", background: "#f0f2f5" }}>
      <Card style={{ width: 400 }}>
        <Typography.Title level={3} style={{ textAlign: "center" }}>管理控制台登录</Typography.Title>
        <Typography.Paragraph type="secondary" style={{ textAlign: "center" }}>
          贵州省促进专利技术转化助力中小企业创新发展
        </Typography.Paragraph>
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item label="用户名" name="username" rules={[{ required: true, message: "请输入用户名" }]}>
            <Input autoFocus autoComplete="username" id="username" />
          </Form.Item>
          <Form.Item label="密码" name="password" rules={[{ required: true, message: "请输入密码" }]}>
            <Input.Password autoComplete="current-password" id="password" />
          </Form.Item>
          {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
          <Button type="primary" htmlType="submit" block loading={busy}>登录</Button>
        </Form>
      </Card>
    </div>
  );
}
