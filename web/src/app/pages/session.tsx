import { useState } from 'preact/hooks';
import { login, signup } from '../api/session.ts';
import { href } from '../router.ts';
import { ErrorText, Field, Form, Status, useAction } from '../ui.tsx';

export function LoginPage({ notice }: { notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(() => login(email.trim(), password));
  return (
    <section class="auth">
      <h1>Log in to Telly</h1>
      {notice && <Status kind="warn">{notice}</Status>}
      <Form onSubmit={() => void action.run()}>
        <Field
          label="Email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onChange={setEmail}
        />
        <Field
          label="Password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <ErrorText error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Logging in…' : 'Log in'}
        </button>
      </Form>
      <p>
        No account yet? <a href={href('signup')}>Sign up</a>
      </p>
    </section>
  );
}

export function SignupPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenantName, setTenantName] = useState('');
  const action = useAction(() => signup(email.trim(), password, tenantName.trim()));
  return (
    <section class="auth">
      <h1>Sign up</h1>
      <p>Creates your tenant (your organisation's space) with you as its owner.</p>
      <Form onSubmit={() => void action.run()}>
        <Field
          label="Email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onChange={setEmail}
        />
        <Field
          label={
            <>
              Password <span class="hint">(at least 10 characters, not a common one)</span>
            </>
          }
          type="password"
          autocomplete="new-password"
          required
          minLength={10}
          value={password}
          onChange={setPassword}
        />
        <Field label="Tenant name" required maxLength={200} value={tenantName} onChange={setTenantName} />
        <ErrorText error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Signing up…' : 'Sign up'}
        </button>
      </Form>
      <p>
        Have an account? <a href={href('login')}>Log in</a>
      </p>
    </section>
  );
}
