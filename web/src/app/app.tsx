import { lazy, Suspense } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import { logout, onSession, type SessionState, sessionState } from './api/session.ts';
import { LoginPage, SignupPage } from './pages/session.tsx';
import { href, navigate, useRoute } from './router.ts';

const Devices = lazy(() => import('./pages/devices.tsx').then((m) => ({ default: m.DevicesPage })));
const Channels = lazy(() => import('./pages/channels.tsx').then((m) => ({ default: m.ChannelsPage })));
const ChannelPage = lazy(() => import('./pages/channels.tsx').then((m) => ({ default: m.ChannelPage })));
const ThingPage = lazy(() => import('./pages/thing.tsx').then((m) => ({ default: m.ThingPage })));
const DataPage = lazy(() => import('./pages/data.tsx').then((m) => ({ default: m.DataPage })));
const CommandsPage = lazy(() => import('./pages/commands.tsx').then((m) => ({ default: m.CommandsPage })));
const AlertsPage = lazy(() => import('./pages/alerts.tsx').then((m) => ({ default: m.AlertsPage })));
const RulesPage = lazy(() => import('./pages/rules.tsx').then((m) => ({ default: m.RulesPage })));
const RulePage = lazy(() => import('./pages/rule-form.tsx').then((m) => ({ default: m.RulePage })));
const OperatePage = lazy(() => import('./pages/operate.tsx').then((m) => ({ default: m.OperatePage })));

function useSession(): SessionState {
  const [state, setState] = useState(sessionState());
  useEffect(() => onSession(setState), []);
  return state;
}

export function App() {
  const session = useSession();
  const route = useRoute();
  const [section] = route;
  useEffect(() => {
    // the page's name for assistive technology and the browser's history
    document.title = `${section ? section[0]!.toUpperCase() + section.slice(1) : 'Things'} · Telly`;
  }, [section]);
  useEffect(() => {
    if (session.status === 'signed-in' && (section === 'login' || section === 'signup')) navigate('things');
  }, [session.status, section]);

  if (session.status === 'restoring')
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  if (session.status === 'signed-out') {
    return (
      <main id="main" class="narrow">
        {section === 'signup' ? <SignupPage /> : <LoginPage notice={session.notice} />}
      </main>
    );
  }
  const { user } = session;
  const operates = user.role === 'owner' || user.role === 'admin';
  const [, id, sub] = route;
  let page = <Devices />;
  if (section === 'channels' && id) page = <ChannelPage id={id} />;
  else if (section === 'channels') page = <Channels />;
  else if (section === 'things' && id && sub === 'data') page = <DataPage thingId={id} />;
  else if (section === 'things' && id && sub === 'commands') page = <CommandsPage thingId={id} />;
  else if (section === 'things' && id) page = <ThingPage id={id} />;
  else if (section === 'rules' && id) page = <RulePage id={id} />;
  else if (section === 'rules') page = <RulesPage />;
  else if (section === 'alerts') page = <AlertsPage />;
  else if (section === 'operate' && operates) page = <OperatePage />;
  const current = (name: string) =>
    section === name || (!section && name === 'things') ? 'page' : undefined;
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href={href('things')}>
          Telly
        </a>
        <nav aria-label="Main">
          <a href={href('things')} aria-current={current('things')}>
            Things
          </a>
          <a href={href('channels')} aria-current={current('channels')}>
            Channels
          </a>
          <a href={href('rules')} aria-current={current('rules')}>
            Rules
          </a>
          <a href={href('alerts')} aria-current={current('alerts')}>
            Alerts
          </a>
          {operates && (
            <a href={href('operate')} aria-current={current('operate')}>
              Operate
            </a>
          )}
        </nav>
        <div class="who">
          <span>
            {user.email} · {user.tenant.name} ({user.role})
          </span>
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>{page}</Suspense>
      </main>
    </>
  );
}
