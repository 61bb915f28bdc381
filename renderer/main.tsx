// The settings window's page. It talks to the relay only through window.relay (RelayApi), which the
// preload provides in the app and the HTTP bridge in the browser tests.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
