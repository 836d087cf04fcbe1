import { useState } from 'preact/hooks';
import { login, signup } from '../api/session.ts';
import { href } from '../router.ts';
import { ErrorText, Status, useAction } from '../ui.tsx';

export function LoginPage({ notice }: { notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(() => login(email.trim(), password));
  return (
    <section class="auth">
      <h1>Log in to Telly</h1>
      {notice && <Status kind="warn">{notice}</Status>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run();
        }}
      >
        <label>
          Email
          <input
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorText error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
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
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run();
        }}
      >
        <label>
          Email
          <input
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password <span class="hint">(at least 10 characters, not a common one)</span>
          <input
            type="password"
            autocomplete="new-password"
            required
            minLength={10}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          Tenant name
          <input
            required
            maxLength={200}
            value={tenantName}
            onInput={(e) => setTenantName(e.currentTarget.value)}
          />
        </label>
        <ErrorText error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Signing up…' : 'Sign up'}
        </button>
      </form>
      <p>
        Have an account? <a href={href('login')}>Log in</a>
      </p>
    </section>
  );
}
