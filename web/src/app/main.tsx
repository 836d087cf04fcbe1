import './styles.css';
import { render } from 'preact';
import { restore } from './api/session.ts';
import { App } from './app.tsx';

void restore();
render(<App />, document.getElementById('app')!);
